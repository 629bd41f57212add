"""What users type stays text; the graph is usable by keyboard, by screen readers and on a phone;
API errors are shown in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.data import import_tree, output_dir, tree_file, unique

from skilltree.models import User

INJECTION = "<img src=x onerror=alert(1)>"

PINCH = """() => {
    const graph = document.getElementById("graph");
    const box = graph.getBoundingClientRect();
    const y = box.top + box.height / 2;
    const touch = (type, id, x) => graph.dispatchEvent(new PointerEvent(type, {
        clientX: x, clientY: y, pointerId: id, pointerType: "touch", bubbles: true, button: 0,
        buttons: type === "pointerup" ? 0 : 1, isPrimary: id === 1,
    }));
    touch("pointerdown", 1, box.left + 150);
    touch("pointerdown", 2, box.left + 200);
    touch("pointermove", 2, box.left + 250);
    touch("pointerup", 2, box.left + 250);
    touch("pointerup", 1, box.left + 150);
}"""


def test_a_skill_named_like_markup_is_shown_as_text_and_never_runs(
    new_page: Any, live_engine: Engine, author: tuple[User, str], category_slug: str
) -> None:
    from playwright.sync_api import expect

    name = f"{INJECTION} {unique('tree')}"
    skills = [
        {
            "key": "evil",
            "name": INJECTION,
            "description": "<script>alert(2)</script><b>bold?</b>",
            "learningObjectives": ["<img src=y onerror=alert(3)>"],
            "resources": [
                {"type": "link", "title": "<i>x</i>", "url": "https://example.org/?q=<b>"}
            ],
        },
        {"key": "after", "name": "After <svg onload=alert(4)>", "dependencies": ["evil"]},
    ]
    ids = import_tree(live_engine, tree_file(category_slug, unique("xss"), name, skills), author[0])
    page = new_page(token=author[1])

    page.goto("/#/")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    page.get_by_role("link", name=name).click()
    node = page.locator(f'.node[data-id="{ids["evil"]}"]')
    expect(node.locator(".name")).to_have_text(re.compile(re.escape("<img src=x")))
    node.click()
    details = page.get_by_role("complementary", name="Skill details")
    expect(details.get_by_role("heading", level=2)).to_have_text(INJECTION)
    expect(details).to_contain_text("<script>alert(2)</script><b>bold?</b>")
    expect(details).to_contain_text("<img src=y onerror=alert(3)>")
    expect(details.get_by_role("link", name="<i>x</i>")).to_be_visible()
    page.get_by_role("button", name="Edit graph").click()
    page.locator(f'.node[data-id="{ids["evil"]}"]').click()
    page.get_by_role("button", name="Edit skill").click()
    expect(page.get_by_role("dialog").get_by_label("Name")).to_have_value(INJECTION)
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # Nothing the data said became an element (the app itself draws no <img>, <script> in
    # the body, <b>, <i> or <svg onload>); alert() would have opened a dialog (a test failure).
    made = page.evaluate(
        """() => ({
            img: document.querySelectorAll("img").length,
            script: document.body.querySelectorAll("script").length,
            bold: document.querySelectorAll("main b, main i").length,
            onload: document.querySelectorAll("[onload], [onerror]").length,
        })"""
    )
    assert made == {"img": 0, "script": 0, "bold": 0, "onload": 0}


def _chain_tree(category: str) -> dict[str, Any]:
    skills = [{"key": "s0", "name": "Start here", "xpValue": 10}]
    skills += [{"key": f"s{i}", "name": f"Step {i}", "dependencies": [f"s{i - 1}"]} for i in (1, 2)]
    skills.append({"key": "side", "name": "Side quest", "dependencies": ["s0"], "isOptional": True})
    return tree_file(category, unique("keys"), f"Keyboard {unique('tree')}", skills)


def test_the_graph_works_by_keyboard_and_says_each_state_in_words(
    new_page: Any, live_engine: Engine, author: tuple[User, str], category_slug: str
) -> None:
    from playwright.sync_api import expect

    document = _chain_tree(category_slug)
    ids = import_tree(live_engine, document, author[0])
    page = new_page(token=author[1])
    page.goto(f"/#/trees/{document['tree']['slug']}")
    first = page.locator(f'.node[data-id="{ids["s0"]}"]')
    expect(first).to_have_attribute("tabindex", "0")
    expect(first).to_have_attribute("role", "button")
    expect(first).to_have_attribute("aria-label", "Start here: Available, 10 XP")
    expect(page.locator(f'.node[data-id="{ids["side"]}"]')).to_have_attribute(
        "aria-label", re.compile(r"Side quest: Locked, \d+ XP, optional")
    )
    # The legend names every state; the state is also written inside each node.
    legend = page.get_by_role("list", name="Legend")
    for word in ("Locked", "Available", "In progress", "Completed", "Skipped", "Milestone"):
        expect(legend).to_contain_text(word)
    expect(first.locator(".sub")).to_contain_text("Available")

    first.focus()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.dataset.id")
    assert focused in {ids["s1"], ids["side"]}
    # The focus ring is drawn for keyboard focus.
    ring = page.locator(f'.node[data-id="{focused}"] .focus-ring')
    assert ring.evaluate("el => getComputedStyle(el).stroke") != "none"
    page.keyboard.press("Enter")
    details = page.get_by_role("complementary", name="Skill details")
    expect(details).to_be_visible()
    expect(details.locator(".missing")).to_contain_text("Start here")
    page.keyboard.press("Escape")
    expect(details).to_be_hidden()
    assert page.evaluate("document.activeElement.dataset.id") == focused

    # The same skills as a plain list of buttons.
    page.get_by_text("All skills as a list").click()
    page.locator(".skill-list").get_by_role("button", name="Step 2").click()
    expect(details.get_by_role("heading", level=2)).to_have_text("Step 2")
    expect(page.locator(".skill-list")).to_contain_text("Step 2 — Locked")

    # Skills are laid out in layers by their prerequisites, wherever their stored positions are.
    layout = page.evaluate(
        """async () => {
            const { computeLayout } = await import("/static/js/graph/layout.js");
            const skill = (id, dependencies = [], nodeSize = 1) =>
                ({ id, name: id, positionX: 0, positionY: 0, nodeSize, dependencies });
            const doc = {
                skills: [skill("a"), skill("b", ["a"]), skill("c", ["a"], 3)],
                layoutConfig: {},
            };
            const { boxes } = computeLayout(doc);
            return Object.fromEntries(boxes);
        }"""
    )
    assert layout["b"]["y"] == layout["c"]["y"] > layout["a"]["y"]
    assert abs(layout["c"]["x"] - layout["b"]["x"]) >= (layout["b"]["w"] + layout["c"]["w"]) / 2
    assert layout["c"]["w"] > layout["b"]["w"]

    # An API error is shown in words.
    page.goto("/#/trees/no-such-tree")
    expect(page.locator("#banner")).to_contain_text("No skill tree has the slug 'no-such-tree'")


@pytest.mark.parametrize("width", [390])
def test_the_tree_page_works_in_a_narrow_viewport(
    new_page: Any,
    live_engine: Engine,
    author: tuple[User, str],
    category_slug: str,
    width: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from playwright.sync_api import expect

    document = _chain_tree(category_slug)
    ids = import_tree(live_engine, document, author[0])
    page = new_page(token=author[1], width=width, height=800)
    page.goto(f"/#/trees/{document['tree']['slug']}")
    node = page.locator(f'.node[data-id="{ids["s0"]}"]')
    expect(node).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    node.click()
    details = page.get_by_role("complementary", name="Skill details")
    expect(details).to_be_in_viewport()
    box = details.bounding_box()
    assert box is not None
    assert box["width"] <= width
    page.screenshot(path=str(output_dir(tmp_path_factory) / "tree-page-mobile.png"))

    # Two fingers spread twice as far apart: twice the zoom.
    page.get_by_role("button", name="Close the details").click()
    before = float(page.locator("#graph").get_attribute("data-zoom") or 0)
    page.evaluate(PINCH)
    after = float(page.locator("#graph").get_attribute("data-zoom") or 0)
    assert after == pytest.approx(min(2.5, before * 2), rel=0.01)
