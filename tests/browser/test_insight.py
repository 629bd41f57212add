"""A tree's insight for its author (issue 15 part 9): the map coloured by the funnel with the
numbers in each skill's accessible name, the worst stalls ringed, charts of completions, cohort
retention and time to complete drawn with uPlot (served from the app's own static files), each
with a table holding the API's figures; refusals in plain words; no axe violation in light or
dark. The page's time from its data to interactive is measured by benchmarks/bench_insight.py."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine, select
from tests.browser.axe import violations
from tests.browser.data import committed, import_tree, tree_file, unique
from tests.factories import make_token, make_user

from skilltree.db.rls import act_as_learner
from skilltree.models import SkillTree, User, UserRole
from skilltree.progress import service as progress_service
from skilltree.progress.schemas import CompleteRequest

# Each learner's steps: ("start" | "complete", key), in order.
STEPS = {
    "l1": [("start", "basics"), ("complete", "basics"), ("complete", "loops"), ("start", "sails")],
    "l2": [("complete", "basics"), ("start", "loops")],
    "l3": [("complete", "basics"), ("start", "hitches")],
    "l4": [("start", "basics")],
    "l5": [],
}
SKILLS = [
    {"key": "basics", "name": "Rope Basics"},
    {"key": "loops", "name": "Loops", "dependencies": ["basics"]},
    {"key": "hitches", "name": "Hitches", "dependencies": ["basics"]},
    {"key": "sails", "name": "Sail Trim", "dependencies": ["loops"]},
]


@pytest.fixture
def insight(live_engine: Engine, author: tuple[User, str], category_slug: str) -> dict[str, Any]:
    """A tree of 4 skills by `author` with 5 learners at different stages (STEPS)."""
    manual = {"MANUAL": {}}
    skills = [dict(skill, completionPolicy=manual) for skill in SKILLS]
    document = tree_file(category_slug, unique("insight"), f"Insight Knots {unique('i')}", skills)
    slug = document["tree"]["slug"]
    ids = import_tree(live_engine, document, author[0])
    for steps in STEPS.values():
        with committed(live_engine) as session:
            learner = make_user(session, UserRole.LEARNER, username=unique("lrn").replace("-", "_"))
            act_as_learner(session, learner.id)
            progress_service.enrol(session, learner, slug)
            for action, key in steps:
                if action == "start":
                    progress_service.start(session, learner, ids[key])
                else:
                    progress_service.complete(session, learner, ids[key], CompleteRequest())
    with committed(live_engine) as session:
        learner = make_user(
            session, UserRole.LEARNER, username=unique("onlooker").replace("-", "_")
        )
        other = make_user(session, UserRole.AUTHOR, username=unique("other").replace("-", "_"))
        admin = make_user(session, UserRole.ADMIN, username=unique("admin").replace("-", "_"))
        tokens = {
            "learner": make_token(session, learner),
            "other": make_token(session, other),
            "admin": make_token(session, admin),
        }
    return {"slug": slug, "ids": ids, "author": author[1], **tokens}


def _figures(live_server: str, token: str, slug: str) -> dict[str, Any]:
    """The API's figures the page draws."""
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/analytics/trees/{slug}"
    figures = {}
    for name, path in {
        "funnel": "/funnel",
        "stalls": "/stalls?limit=1000",
        "times": "/time-to-complete",
        "cohorts": "/cohorts?weeks=12",
    }.items():
        answer = httpx2.get(live_server + base + path, headers=headers)
        assert answer.status_code == 200, answer.text
        figures[name] = answer.json()
    return figures


def _open(page: Any, slug: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"/#/trees/{slug}/insight")
    expect(page.locator('.insight-page[data-ready="true"]')).to_have_count(1)


def test_the_map_is_coloured_by_the_funnel_and_says_the_numbers(
    new_page: Any, insight: dict[str, Any], live_server: str
) -> None:
    from playwright.sync_api import expect

    figures = _figures(live_server, insight["author"], insight["slug"])
    funnel = figures["funnel"]
    assert funnel["enrolments"] == 5
    page = new_page(token=insight["author"])
    _open(page, insight["slug"])
    ids = insight["ids"]
    # Rope Basics: 5 reached, 2 started (l1, l4: l2 and l3 completed it without starting),
    # 3 completed (60%: band 3), l4 stalled on it.
    basics = page.locator(f'.node[data-id="{ids["basics"]}"]')
    expect(basics).to_have_attribute("data-band", "3")
    name = str(basics.get_attribute("aria-label"))
    assert name.startswith("Rope Basics: 60% done"), name  # "· 1 stalled" too where it fits
    assert "5 reached, 2 started, 3 completed of 5 enrolled, 0 skipped, 1 stalled" in name
    # Every skill as the API counts it: its band, its numbers in its name, the words drawn first.
    stalled = {row["skillId"]: row["stalled"] for row in figures["stalls"]}
    for skill in funnel["skills"]:
        node = page.locator(f'.node[data-id="{skill["skillId"]}"]')
        expect(node).to_have_attribute(
            "data-band", str(min(4, skill["completed"] * 5 // funnel["enrolments"]))
        )
        label = str(node.get_attribute("aria-label"))
        sub = node.locator(".sub").text_content() or ""
        assert label.startswith(f"{skill['name']}: {sub}, "), (label, sub)
        assert (
            f"{skill['unlocked']} reached, {skill['started']} started, "
            f"{skill['completed']} completed of 5 enrolled, {skill['skipped']} skipped, "
            f"{stalled.get(skill['skillId'], 0)} stalled"
        ) in label
    # The stalls are ringed, ranked as the API ranks them.
    for rank, row in enumerate(figures["stalls"], start=1):
        node = page.locator(f'.node[data-id="{row["skillId"]}"]')
        expect(node).to_have_attribute("data-stall", str(rank))
        assert f"stall {rank} of {len(figures['stalls'])}" in str(node.get_attribute("aria-label"))
    expect(page.locator(".stall-table tbody tr")).to_have_count(len(figures["stalls"]))
    expect(page.locator(".node.stall")).to_have_count(len(figures["stalls"]))
    unstarted = page.locator(f'.node[data-id="{ids["sails"]}"]')  # l1 started it: 0 completed
    expect(unstarted).to_have_attribute("data-band", "0")
    expect(unstarted.locator(".icon-glyph")).to_have_attribute("d", "M0,0")  # an empty pie
    expect(page.locator(".insight-legend li")).to_have_count(7)
    # By keyboard: Enter on a skill opens its figures, Escape gives the focus back to it.
    basics.focus()
    page.keyboard.press("Enter")
    panel = page.locator(".insight-panel")
    expect(panel.locator("h2")).to_be_focused()
    expect(panel.locator("dd").nth(2)).to_have_text("3 (60% done)")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(basics).to_be_focused()
    # A stall's name in the table takes the map to it.
    page.locator(".stall-table tbody th button").first.click()
    expect(panel.locator("h2")).to_have_text(figures["stalls"][0]["name"])


def test_the_charts_are_drawn_by_uplot_from_the_app_with_tables_of_the_api_figures(
    new_page: Any, insight: dict[str, Any], live_server: str
) -> None:
    from playwright.sync_api import expect

    figures = _figures(live_server, insight["author"], insight["slug"])
    page = new_page(token=insight["author"])
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else elsewhere.append(r.url))
    _open(page, insight["slug"])
    assert page.evaluate("typeof window.uPlot") == "function"
    for box in ("completions", "cohorts", "times"):
        chart = page.locator(f'section[aria-labelledby="{box}-title"] .chart-box')
        expect(chart).to_have_attribute("aria-hidden", "true")
        expect(chart.locator(".uplot canvas").first).to_be_visible()
    assert elsewhere == []
    # Each table is made when opened and holds the API's figures.
    page.locator("#completions-table summary").click()
    rows = page.locator("#completions-table tbody tr")
    expect(rows).to_have_count(90)
    completed = sum(int(r.split("\t")[2]) for r in _cells(page, "#completions-table"))
    assert completed == sum(s["completed"] for s in figures["funnel"]["skills"])  # all in range
    page.locator("#cohorts-table summary").click()
    cohorts = [c for c in figures["cohorts"]["cohorts"] if c["learners"]]
    expect(page.locator("#cohorts-table tbody tr")).to_have_count(len(cohorts))
    assert [r.split("\t")[:2] for r in _cells(page, "#cohorts-table")] == [
        [c["week"], str(c["learners"])] for c in cohorts
    ]
    week = cohorts[-1]["weeks"][0]
    assert _cells(page, "#cohorts-table")[-1].split("\t")[2] == (
        f"{round(week['retention'] * 100)}% ({week['active']})"
    )
    page.locator("#times-table summary").click()
    times = figures["times"]["skills"]
    expect(page.locator("#times-table tbody tr")).to_have_count(len(times))
    assert [r.split("\t")[:2] for r in _cells(page, "#times-table")] == [
        [t["name"], str(t["completed"])] for t in times
    ]
    page.locator("#funnel-table summary").click()
    expect(page.locator("#funnel-table tbody tr")).to_have_count(len(figures["funnel"]["skills"]))
    assert [r.split("\t")[:4] for r in _cells(page, "#funnel-table")] == [
        [s["name"], str(s["unlocked"]), str(s["started"]), str(s["completed"])]
        for s in figures["funnel"]["skills"]
    ]


def _cells(page: Any, table: str) -> list[str]:
    rows: list[str] = page.eval_on_selector_all(
        f"{table} tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent).join('\\t'))",
    )
    return rows


def test_no_one_but_the_author_and_admins_sees_it_and_is_told_why(
    new_page: Any, insight: dict[str, Any], live_engine: Engine
) -> None:
    from playwright.sync_api import expect

    slug = insight["slug"]
    for who in ("learner", "other"):
        page = new_page(token=insight[who])
        page.goto(f"/#/trees/{slug}")
        expect(page.locator(".node").first).to_be_visible()
        expect(page.locator("#insight")).to_have_count(0)  # no link to it on the tree page
        page.goto(f"/#/trees/{slug}/insight")
        expect(page.locator("h1")).to_have_text("Tree insight")
        expect(page.locator(".refusal")).to_have_text(
            "Only the tree's author or an admin can see how learners do in it. "
            "You can still learn with the tree."
        )
        expect(page.locator(".node")).to_have_count(0)
        expect(page.locator("h1")).to_be_focused()
    page = new_page()
    page.goto(f"/#/trees/{slug}/insight")
    expect(page.locator(".view p").first).to_have_text(
        "Sign in as the tree's author to see how learners do in it."
    )
    # Someone else's draft, or no tree at all, looks missing.
    with committed(live_engine) as session:
        tree = session.scalars(select(SkillTree).where(SkillTree.slug == slug)).one()
        tree.is_published = False
    page = new_page(token=insight["other"])
    page.goto(f"/#/trees/{slug}/insight")
    expect(page.locator(".refusal")).to_have_text(
        "There is no tree at this address that you may see."
    )
    page.goto(f"/#/trees/{unique('nothing')}/insight")
    expect(page.locator(".refusal")).to_have_text(
        "There is no tree at this address that you may see."
    )
    # The author and an admin reach it from the tree's page (the draft too).
    for who in ("author", "admin"):
        page = new_page(token=insight[who])
        page.goto(f"/#/trees/{slug}")
        page.locator("#insight").click()
        expect(page.locator('.insight-page[data-ready="true"]')).to_have_count(1)
        expect(page.locator("h1")).to_be_focused()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_insight_has_no_axe_violation(new_page: Any, insight: dict[str, Any], scheme: str) -> None:
    from playwright.sync_api import expect

    page = new_page(token=insight["author"], color_scheme=scheme, bypass_csp=True)
    _open(page, insight["slug"])
    expect(page.locator(f'html[data-theme="{scheme}"]')).to_have_count(1)
    for table in ("#completions-table", "#cohorts-table", "#times-table", "#funnel-table"):
        page.locator(f"{table} summary").click()
        expect(page.locator(f"{table} table")).to_be_visible()
    page.locator(f'.node[data-id="{insight["ids"]["basics"]}"]').click()
    expect(page.locator(".insight-panel")).to_be_visible()
    assert violations(page, ran=("color-contrast", "label-content-name-mismatch")) == []
    # Zoomed out, map labels in the bands' colours name the skills.
    for _ in range(6):
        page.get_by_role("button", name="Zoom out").click()
    expect(page.locator("#insight-graph .map-label").first).to_be_visible()
    assert violations(page) == []
