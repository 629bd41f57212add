"""Accessible (issue 15, part 5): axe-core finds no violation of any impact, label in name among
the rules (tests/browser/axe.py), on the sign-in page, the catalog, search results, tree pages
(anonymous, learner, author editing), and the profile, in light and dark; focus moves to the
page's heading on every navigation and stays on the acted element after Enrol, Start, Complete
and Skip (Escape and the zoom keys go on working); the selection ring is not the milestone ring."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.axe import violations
from tests.browser.data import committed, import_tree, tree_file, unique
from tests.factories import make_token, make_user

from skilltree.models import User, UserRole


def _course(category: str) -> dict[str, Any]:
    skills = [
        {"key": "basics", "name": "Rope Basics", "xpValue": 40},
        {"key": "bowline", "name": "Bowline", "dependencies": ["basics"]},
        {"key": "hitch", "name": "Clove Hitch", "dependencies": ["basics"], "isOptional": True},
        {"key": "splice", "name": "Eye Splice Techniques for Synthetic Double Braid Ropes",
         "shortName": "Eye Splice", "dependencies": ["basics"]},
        {"key": "master", "name": "Knot Master", "dependencies": ["bowline", "hitch"],
         "isMilestone": True},
    ]  # fmt: skip
    return tree_file(category, unique("access"), f"Accessible Knots {unique('a')}", skills)


@pytest.fixture
def course(live_engine: Engine, author: tuple[User, str], category_slug: str) -> dict[str, Any]:
    document = _course(category_slug)
    ids = import_tree(live_engine, document, author[0])
    return {"slug": document["tree"]["slug"], "name": document["tree"]["name"], "ids": ids}


@pytest.fixture
def learner(live_engine: Engine) -> str:
    with committed(live_engine) as session:
        user = make_user(session, UserRole.LEARNER, username=unique("able").replace("-", "_"))
        return make_token(session, user)


ANIMATIONS_DONE = "() => document.getAnimations().every((a) => a.playState !== 'running')"
"""No transition or entrance animation half way (axe reads colours as they are drawn)."""


def _ready(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html[data-ready]")).to_have_count(1)
    expect(page.locator("main .loading")).to_have_count(0)
    page.wait_for_function(ANIMATIONS_DONE)


def _tree(page: Any, slug: str, query: str = "") -> None:
    from playwright.sync_api import expect

    page.goto(f"/#/trees/{slug}{query}")
    expect(page.locator("#graph[data-rendered]")).to_have_count(1)
    _ready(page)


def _node(page: Any, id_: str) -> Any:
    return page.locator(f'.node[data-id="{id_}"]')


def _details(page: Any) -> Any:
    return page.get_by_role("complementary", name="Skill details")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_on_any_page(
    new_page: Any,
    course: dict[str, Any],
    learner: str,
    author: tuple[User, str],
    scheme: str,
) -> None:
    from playwright.sync_api import expect

    found: dict[str, Any] = {}
    ids = course["ids"]

    anonymous = new_page(color_scheme=scheme, bypass_csp=True)
    anonymous.goto("/#/signin")
    _ready(anonymous)
    found["sign-in"] = violations(anonymous)
    anonymous.goto("/#/")
    _ready(anonymous)
    found["catalog"] = violations(anonymous)
    anonymous.goto("/#/?q=Knots")
    _ready(anonymous)
    expect(anonymous.locator(".count")).to_be_visible()
    found["search"] = violations(anonymous)
    _tree(anonymous, course["slug"], f"?skill={ids['splice']}")
    found["tree, anonymous"] = violations(anonymous, ran=("color-contrast", LABEL_IN_NAME))

    # Reduced motion: a notification that takes its turn during axe's reading is drawn at once
    # in its colours (no entrance); the celebration's animated form is checked in
    # test_learning_loop.py.
    page = new_page(token=learner, color_scheme=scheme, bypass_csp=True, reduced_motion="reduce")
    _tree(page, course["slug"])
    page.locator("#enrol").click()
    expect(page.locator("#enrol")).to_have_text("Enrolled ✓")
    steps = (("basics", "complete", "COMPLETED"), ("bowline", "start", "IN_PROGRESS"),
             ("hitch", "skip", "SKIPPED"))  # fmt: skip
    for key, action, state in steps:
        _node(page, ids[key]).click()
        _details(page).locator(f'[data-action="{action}"]').click()
        expect(_node(page, ids[key])).to_have_attribute("data-state", state)
    # Every state drawn, a milestone selected, the header's standing and the news shown.
    _node(page, ids["master"]).click()
    expect(_details(page)).to_have_attribute("data-skill-id", ids["master"])
    _ready(page)
    found["tree, learner"] = violations(page, ran=("color-contrast", LABEL_IN_NAME))
    page.goto("/#/")
    _ready(page)
    expect(page.get_by_role("region", name="Continue learning")).to_be_visible()
    found["catalog, learner"] = violations(page)
    page.goto("/#/profile")
    _ready(page)
    found["profile"] = violations(page)

    writer = new_page(token=author[1], color_scheme=scheme, bypass_csp=True)
    _tree(writer, course["slug"])
    writer.locator("#edit-mode").click()
    expect(writer.locator("#edit-mode")).to_have_attribute("aria-pressed", "true")
    expect(writer.locator(".handle").first).to_be_attached()
    _node(writer, ids["splice"]).click()
    expect(_details(writer).get_by_role("button", name="Edit skill")).to_be_visible()
    _ready(writer)
    found["tree, author"] = violations(writer, ran=("color-contrast", LABEL_IN_NAME))

    assert found == {page_name: [] for page_name in found}


LABEL_IN_NAME = "label-content-name-mismatch"


def _focused(page: Any) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate(
        """() => { const el = document.activeElement;
            return { tag: el.tagName, text: el.textContent.trim(), id: el.id,
                     action: el.dataset?.action || null }; }"""
    )
    return answer


def _heading_focused(page: Any, text: str | re.Pattern[str]) -> None:
    from playwright.sync_api import expect

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(text)
    expect(heading).to_be_focused()


def test_focus_moves_to_the_heading_on_every_navigation(
    new_page: Any, course: dict[str, Any], learner: str
) -> None:
    page = new_page()
    page.goto("/#/")
    _heading_focused(page, "Skill trees")
    page.get_by_role("link", name="Sign in").click()
    _heading_focused(page, "Sign in")
    page.get_by_role("link", name="Sign up").last.click()
    _heading_focused(page, "Create your account")
    page.goto(f"/#/trees/{course['slug']}")
    _heading_focused(page, course["name"])
    page.get_by_role("link", name="Catalog").first.click()
    _heading_focused(page, "Skill trees")
    page.go_back()
    _heading_focused(page, course["name"])
    page.goto("/#/nowhere")
    _heading_focused(page, "Not found")

    signed_in = new_page(token=learner)
    signed_in.goto("/#/")
    _heading_focused(signed_in, "Skill trees")
    signed_in.get_by_role("link", name="Profile").click()
    _heading_focused(signed_in, re.compile("profile"))
    # A link to a skill: the page's heading still comes first (the details are open beside it).
    signed_in.goto(f"/#/trees/{course['slug']}?skill={course['ids']['bowline']}")
    _heading_focused(signed_in, course["name"])
    from playwright.sync_api import expect

    expect(_details(signed_in)).to_have_attribute("data-skill-id", course["ids"]["bowline"])


def _zoom(page: Any) -> float:
    return float(page.locator("#graph").get_attribute("data-zoom"))


def _zoom_keys_work(page: Any) -> None:
    """The keys "+" and "-" zoom the map wherever the focus is on the page (outside a field)."""
    zoom = "() => Number(document.querySelector('#graph').dataset.zoom)"
    before = _zoom(page)
    page.keyboard.press("+")
    page.wait_for_function(f"(before) => ({zoom})() > before", arg=before)
    page.keyboard.press("-")
    page.wait_for_function(f"(before) => ({zoom})() <= before", arg=before)


def test_focus_stays_on_the_acted_element(
    new_page: Any, course: dict[str, Any], learner: str, live_engine: Engine
) -> None:
    from playwright.sync_api import expect

    ids = course["ids"]
    page = new_page(token=learner)
    _tree(page, course["slug"])
    page.locator("#enrol").click()
    expect(page.locator("#enrol")).to_have_text("Enrolled ✓")
    expect(page.locator("#enrol")).to_be_focused()
    assert _focused(page) == {"tag": "BUTTON", "text": "Enrolled ✓", "id": "enrol", "action": None}
    _zoom_keys_work(page)

    steps = (("basics", "start", "IN_PROGRESS", "Started ✓"),
             ("basics", "complete", "COMPLETED", "Completed ✓"),
             ("hitch", "skip", "SKIPPED", "Skipped ✓"))  # fmt: skip
    for key, action, state, said in steps:
        if page.locator(f'.panel[data-skill-id="{ids[key]}"]:not([hidden])').count() == 0:
            _node(page, ids[key]).click()
            expect(_details(page)).to_have_attribute("data-skill-id", ids[key])
        _details(page).locator(f'[data-action="{action}"]').focus()
        page.keyboard.press("Enter")
        expect(_node(page, ids[key])).to_have_attribute("data-state", state)
        expect(_details(page).locator(f'[data-action="{action}"]')).to_be_focused()
        assert _focused(page)["text"] == said
        _zoom_keys_work(page)
    # Escape closes the details and gives the focus back to the skill on the map.
    page.keyboard.press("Escape")
    expect(_details(page)).to_be_hidden()
    expect(_node(page, ids["hitch"])).to_be_focused()

    # Enrolling from the details: the focus stays there too.
    with committed(live_engine) as session:
        other = make_user(session, UserRole.LEARNER, username=unique("able").replace("-", "_"))
        token = make_token(session, other)
    second = new_page(token=token)
    _tree(second, course["slug"])
    _node(second, ids["basics"]).click()
    _details(second).locator('[data-action="enrol"]').click()
    expect(_details(second).locator('[data-action="enrol"]')).to_be_focused()
    expect(_details(second).locator('[data-action="enrol"]')).to_have_text("Enrolled ✓")
    expect(_details(second).locator('[data-action="start"]')).to_be_visible()
    second.keyboard.press("Escape")
    expect(_details(second)).to_be_hidden()


# A node's rings as drawn: stroke colour and width, and the box on screen.
RINGS = """(id) => {
    const node = document.querySelector(`.node[data-id="${id}"]`);
    const ring = (cls) => {
        const el = node.querySelector(cls);
        const style = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return { stroke: style.stroke, width: style.strokeWidth, dash: style.strokeDasharray,
                 box: [r.left, r.top, r.right, r.bottom] };
    };
    return { milestone: ring(".milestone-ring"), selection: ring(".select-ring") };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_selection_ring_is_distinct_from_the_milestone_ring(
    new_page: Any, course: dict[str, Any], scheme: str
) -> None:
    from playwright.sync_api import expect

    page = new_page(color_scheme=scheme)
    master = course["ids"]["master"]
    _tree(page, course["slug"])
    before = page.evaluate(RINGS, master)
    assert before["selection"]["stroke"] == "none"
    assert before["milestone"]["stroke"] != "none"

    _node(page, master).click()
    expect(_node(page, master)).to_have_class(re.compile(r"\bselected\b"))
    rings = page.evaluate(RINGS, master)
    selection, milestone = rings["selection"], rings["milestone"]
    assert selection["stroke"] not in ("none", milestone["stroke"]), rings
    assert selection["width"] != milestone["width"], rings
    # The selection ring lies outside the milestone ring: both stay visible, neither hides the
    # other (left, top, right, bottom).
    s_box, m_box = selection["box"], milestone["box"]
    assert [s_box[0] < m_box[0], s_box[1] < m_box[1], s_box[2] > m_box[2], s_box[3] > m_box[3]] == [
        True
    ] * 4, rings
    legend = page.get_by_role("list", name="Legend")
    expect(legend).to_contain_text("Selected (blue outer ring)")
    expect(legend).to_contain_text("Milestone")
