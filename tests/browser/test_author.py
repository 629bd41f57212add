"""An author in the browser: creates a tree, adds skills, draws prerequisites by dragging (one
that would close a cycle is refused and the cycle shown), moves a node (saved), removes an
edge, publishes, exports and imports a tree file."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Engine, select
from tests.browser.data import committed, tree_file, unique

from skilltree.models import Skill, SkillDependency, SkillTree, User


def _centre(locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            start[0] + (end[0] - start[0]) * step / 10, start[1] + (end[1] - start[1]) * step / 10
        )
    page.mouse.up()


def _skills(engine: Engine, slug: str) -> dict[str, Skill]:
    with committed(engine) as session:
        tree = session.scalars(select(SkillTree).where(SkillTree.slug == slug)).one()
        return {
            s.name: s for s in session.scalars(select(Skill).where(Skill.skill_tree_id == tree.id))
        }


def _needs(engine: Engine, skill_id: str) -> set[str]:
    with committed(engine) as session:
        query = select(SkillDependency.depends_on_id).where(SkillDependency.skill_id == skill_id)
        return set(session.scalars(query))


def test_an_author_builds_a_tree_and_a_cycle_is_refused_and_shown(
    new_page: Any, live_engine: Engine, author: tuple[User, str], category_slug: str
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=author[1])
    name = f"Sailing {unique('tree')}"
    page.goto("/#/author")
    form = page.locator("#create-tree")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Category").select_option(category_slug)
    form.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator(".meta .badge-draft")).to_have_text("Draft")
    slug = page.evaluate("decodeURIComponent(location.hash.split('/')[2].split('?')[0])")

    page.get_by_role("button", name="Edit graph").click()
    for skill in ("Knots", "Trim", "Tacking"):
        page.get_by_role("button", name="Add skill").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Name").fill(skill)
        dialog.get_by_label("XP", exact=True).fill("15")
        dialog.get_by_role("button", name="Add skill").click()
        expect(page.locator(".edit-status")).to_have_text(f"Added “{skill}”.")
    ids = {name: skill.id for name, skill in _skills(live_engine, slug).items()}
    node = {name: page.locator(f'.node[data-id="{id_}"]') for name, id_ in ids.items()}

    # Knots -> Trim by drawing from Knots' handle; Trim -> Tacking from the details panel.
    _drag(page, _centre(node["Knots"].locator(".handle")), _centre(node["Trim"].locator(".body")))
    expect(page.locator(".edit-status")).to_contain_text("“Trim” now needs “Knots”")
    assert _needs(live_engine, ids["Trim"]) == {ids["Knots"]}
    node["Tacking"].click()
    details = page.get_by_role("complementary", name="Skill details")
    details.get_by_label("Add a prerequisite").select_option(label="Trim")
    details.get_by_role("button", name="Add", exact=True).click()
    expect(
        page.locator(f'.edge[data-from="{ids["Trim"]}"][data-to="{ids["Tacking"]}"]')
    ).to_have_count(1)

    # Tacking -> Knots would close Knots -> Trim -> Tacking -> Knots: refused, and shown.
    _drag(
        page, _centre(node["Tacking"].locator(".handle")), _centre(node["Knots"].locator(".body"))
    )
    alert = page.locator("#banner")
    expect(alert).to_contain_text("cycle")
    expect(alert).to_contain_text("“Knots” needs “Tacking”")
    for skill in ("Knots", "Trim", "Tacking"):
        expect(node[skill]).to_have_class(re.compile(r"\bcycle\b"))
    expect(page.locator(".edge.cycle")).to_have_count(2)
    expect(page.locator(".edge.refused")).to_have_count(1)
    assert _needs(live_engine, ids["Knots"]) == set()

    # Moving a node saves its position.
    before = _skills(live_engine, slug)["Knots"]
    x, y = _centre(node["Knots"].locator(".body"))
    # Up and a little right: into open space, so its arrow to Trim stays free to click below.
    _drag(page, (x - 30, y), (x - 10, y - 150))
    expect(page.locator(".edit-status")).to_contain_text("Moved “Knots” (saved)")
    after = _skills(live_engine, slug)["Knots"]
    assert after.position_x > before.position_x
    assert after.position_y < before.position_y

    # Removing an edge: select its arrow, then remove it.
    edge = page.locator(f'.edge-hit[data-from="{ids["Knots"]}"][data-to="{ids["Trim"]}"]')
    expect(edge).to_have_count(1)
    page.wait_for_load_state("networkidle")  # the saved move may still redraw the graph
    remove = page.get_by_role("button", name="Remove this prerequisite")
    page.locator("#graph").press("Escape")
    # Click a point of the arrow that nothing else covers (a node or another arrow may lie over
    # its middle after the move): the first of these points along it where the arrow is on top.
    # Polled, because the saved move may still be redrawing the graph (a path from the replaced
    # drawing has no place on screen).
    found = page.wait_for_function(
        """([from, to]) => {
            const path = document.querySelector(
                `.edge-hit[data-from="${from}"][data-to="${to}"]`);
            if (!path || !path.isConnected) return null;
            const length = path.getTotalLength();
            for (let i = 0; i <= 32; i++) {
                const f = 0.5 + (i % 2 ? 1 : -1) * Math.ceil(i / 2) * 0.025;
                const p = path.getPointAtLength(length * f).matrixTransform(path.getScreenCTM());
                const hit = document.elementFromPoint(p.x, p.y);
                if (hit && hit.closest(".edge-hit") === path) return [p.x, p.y];
            }
            return null;
        }""",
        arg=[ids["Knots"], ids["Trim"]],
        timeout=5000,
    )
    point = found.json_value()
    assert point is not None, "no point of the arrow is free to click"
    page.mouse.click(*point)
    remove.click()
    expect(page.locator(".edit-status")).to_contain_text("“Trim” no longer needs “Knots”")
    assert _needs(live_engine, ids["Trim"]) == set()

    # Editing a skill: the form keeps what it had; the graph shows the new name.
    node["Trim"].click()
    details.get_by_role("button", name="Edit skill").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("XP", exact=True)).to_have_value("15")
    dialog.get_by_label("Name").fill("Trim the sails")
    dialog.get_by_role("checkbox", name="Milestone").check()
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.locator(".edit-status")).to_have_text("Saved “Trim the sails”.")
    expect(node["Trim"]).to_have_class(re.compile(r"\bmilestone\b"))
    expect(node["Trim"].locator(".name")).to_have_text("Trim the sails")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("button", name="Unpublish")).to_be_visible()
    expect(page.locator(".meta .badge-draft")).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("button", name="Export tree file").click()
    exported = json.loads(download.value.path().read_text())
    assert exported["tree"]["slug"] == slug
    assert {skill["name"] for skill in exported["skills"]} == {"Knots", "Trim the sails", "Tacking"}

    # Importing a file makes a tree and opens it.
    imported = tree_file(
        category_slug,
        unique("imported"),
        "Imported Rigging",
        [
            {"key": "rig", "name": "Rigging"},
            {"key": "mast", "name": "Mast", "dependencies": ["rig"]},
        ],
    )
    page.goto("/#/author")
    page.locator("#import-tree").get_by_label("Tree file").set_input_files(
        files=[
            {
                "name": "t.json",
                "mimeType": "application/json",
                "buffer": json.dumps(imported).encode(),
            }
        ]
    )
    page.locator("#import-tree").get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imported Rigging")
    expect(page.locator(".graph-canvas .node")).to_have_count(2)

    # An import the server refuses is explained in words.
    page.goto("/#/author")
    page.locator("#import-tree").get_by_label("Tree file").set_input_files(
        files=[{"name": "bad.json", "mimeType": "application/json", "buffer": b'{"format": 1}'}]
    )
    page.locator("#import-tree").get_by_role("button", name="Import").click()
    expect(page.locator("#import-tree .form-error")).not_to_be_empty()
