"""Authors read errors, not jargon (issue 15 part 8): an import's and a form's problems are a list,
one line each in plain words with their place (the file's line, the skill by number and name, the
field), and the map refits after an author's edit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine
from tests.browser.data import import_tree, tree_file, unique

from skilltree.models import User


def _line(text: str, fragment: str, occurrence: int = 1) -> int:
    """The line number (from 1) of the `occurrence`-th line of `text` that holds `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[occurrence - 1]


def _choose_file(page: Any, name: str, text: str) -> None:
    page.locator("#import-tree").get_by_label("Tree file").set_input_files(
        files=[{"name": name, "mimeType": "application/json", "buffer": text.encode()}]
    )
    page.locator("#import-tree").get_by_role("button", name="Import").click()


def test_an_import_lists_each_problem_in_words_at_its_line(
    new_page: Any, author: tuple[User, str], category_slug: str
) -> None:
    from playwright.sync_api import expect

    document = tree_file(
        "no-such-category",
        unique("broken"),
        "Broken Containers",
        [
            {"key": "git", "name": "Git"},
            {"key": "docker", "name": "Docker", "dependencies": ["git", "css"]},
            {"key": "k8s", "name": "Kubernetes", "xpValue": "lots"},
            {"key": "git", "name": "Git again"},
            {"key": "ci", "name": "Pipelines", "dependencies": ["cd"]},
            {"key": "cd", "name": "Delivery", "dependencies": ["ci"]},
        ],
    )
    text = json.dumps(document, indent=2)
    page = new_page(token=author[1])
    page.goto("/#/author")
    _choose_file(page, "containers.json", text)

    problems = page.locator("#import-tree .form-error")
    expect(problems).to_contain_text("containers.json was not imported: 5 problems.")
    expect(problems.get_by_role("listitem")).to_have_count(5)
    items = set(problems.get_by_role("listitem").all_inner_texts())
    css, lots, git = _line(text, '"css"'), _line(text, '"xpValue": "lots"'), _line(text, '"git"', 3)
    ci, category = _line(text, '"ci"', 2), _line(text, '"category"')
    assert items == {
        f"Line {css} — Skill 2 (“Docker”), prerequisite 2: "
        "no skill in this file has the key “css”.",
        f"Line {lots} — Skill 3 (“Kubernetes”), XP: should be a whole number.",
        f"Line {git} — Skill 4 (“Git again”), key: "
        "the key “git” is already the key of skill 1: each skill needs its own.",
        f"Line {ci} — Skill 6 (“Delivery”), prerequisite 1: the "
        "prerequisites go round in a circle (“Delivery” needs “Pipelines”, “Pipelines” needs "
        "“Delivery”): one of them must go.",
        f"Line {category} — The tree, category: no category has the slug “no-such-category”.",
    }
    # No API jargon is left: no JSON path, no Pydantic phrase, no pointer at `errors`.
    words = problems.inner_text()
    for jargon in ("skills[", "Input should", "`errors`", "extra_forbidden", "->"):
        assert jargon not in words

    # A file that is not JSON: the line and column where it stops being JSON.
    _choose_file(page, "typo.json", '{\n  "format": "skilltree.tree",\n  oops\n}\n')
    expect(problems).to_contain_text("typo.json was not imported: one problem.")
    expect(problems.get_by_role("listitem")).to_have_text(
        "Line 3, column 3: the file is not valid JSON here "
        "(Expecting property name enclosed in double quotes)."
    )


def test_a_skill_forms_problems_are_listed_by_their_labels(
    new_page: Any, live_engine: Engine, author: tuple[User, str], category_slug: str
) -> None:
    from playwright.sync_api import expect

    slug = unique("form")
    import_tree(
        live_engine, tree_file(category_slug, slug, "Knots", [{"key": "k", "name": "Bowline"}]),
        author[0],
    )  # fmt: skip
    page = new_page(token=author[1])
    page.goto(f"/#/trees/{slug}")
    page.get_by_role("button", name="Edit graph").click()
    page.get_by_role("button", name="Add skill").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Clove hitch")
    dialog.get_by_label("Estimated minutes").fill("-5")
    dialog.get_by_label("XP", exact=True).fill("2000000")
    dialog.get_by_role("button", name="Add skill").click()

    problems = dialog.locator(".form-error")
    expect(problems).to_contain_text("Not added: 2 problems.")
    expect(problems.get_by_role("listitem")).to_have_text(
        ["Estimated minutes: should be 0 or more.", "XP: should be 1000000 or less."]
    )
    # The first field named is where the author lands, marked invalid.
    expect(dialog.get_by_label("Estimated minutes")).to_be_focused()
    expect(dialog.get_by_label("Estimated minutes")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("XP", exact=True)).to_have_attribute("aria-invalid", "true")

    dialog.get_by_label("Estimated minutes").fill("20")
    dialog.get_by_label("XP", exact=True).fill("10")
    dialog.get_by_role("button", name="Add skill").click()
    expect(page.locator(".edit-status")).to_have_text("Added “Clove hitch”.")


ALL_INSIDE = """() => {
    const box = document.getElementById("graph").getBoundingClientRect();
    const nodes = [...document.querySelectorAll(".graph-canvas .node .body")];
    return nodes.length > 0 && nodes.every((node) => {
        const r = node.getBoundingClientRect();
        return r.left >= box.left - 1 && r.right <= box.right + 1
            && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
    });
}"""


def test_the_map_refits_after_an_edit(
    new_page: Any, live_engine: Engine, author: tuple[User, str], category_slug: str
) -> None:
    from playwright.sync_api import expect

    slug = unique("refit")
    skills = [{"key": k, "name": n} for k, n in (("a", "Anchor"), ("b", "Bend"), ("c", "Cleat"))]
    import_tree(live_engine, tree_file(category_slug, slug, "Mooring", skills), author[0])
    page = new_page(token=author[1])
    page.goto(f"/#/trees/{slug}")
    expect(page.locator("#graph[data-rendered]")).to_have_count(1)
    page.get_by_role("button", name="Edit graph").click()
    expect(page.locator(".graph-canvas.editing")).to_have_count(1)
    for _ in range(5):
        page.get_by_role("button", name="Zoom in").click()
    expect(page.locator("#graph")).to_have_attribute("data-zoom", "2.500")
    assert not page.evaluate(ALL_INSIDE), "zoomed in, the tree should overflow its box"

    page.get_by_role("button", name="Add skill").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Dock")
    dialog.get_by_role("button", name="Add skill").click()
    expect(page.locator(".edit-status")).to_have_text("Added “Dock”.")
    expect(page.locator(".graph-canvas .node")).to_have_count(4)
    page.wait_for_function(ALL_INSIDE)
