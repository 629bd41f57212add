"""The loop that pulls learners back (issue 15, part 4): signed in, every page's header shows the
level, the XP with a bar to the next level, and the streak, refreshed after each progress event; a
completion is one celebration (animated, still for reduced motion) whose XP lines add up, which
lists the skills it unlocked and pans the map to them; notifications wait their turn, one at a
time, never over the details panel; the catalog offers "continue learning" (the tree and its next
skill) and shows the learner's progress on each tree card."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.data import committed, import_tree, tree_file, unique
from tests.factories import make_token, make_user

from skilltree.gamification.rules import xp_for_level
from skilltree.models import User, UserRole

BASICS_XP = 120
FIRST_KNOT_XP = 5
"""The live database's one achievement (conftest.py), earned by a first completion."""

SPREAD = 6
"""Skills that the first one unlocks: a wide row, off screen once zoomed in on the first."""


def _course(category: str, tag: str) -> dict[str, Any]:
    skills: list[dict[str, Any]] = [{"key": "basics", "name": "Rope Basics", "xpValue": BASICS_XP}]
    skills += [
        {"key": f"knot{i}", "name": f"Knot Number {i}", "dependencies": ["basics"], "xpValue": 10,
         "isOptional": i == 0}
        for i in range(SPREAD)
    ]  # fmt: skip
    skills.append(
        {"key": "master", "name": "Knot Master", "dependencies": ["knot1"], "isMilestone": True}
    )
    document = tree_file(category, unique("loop"), f"Loop Knots {unique('l')}", skills)
    document["tree"]["tags"] = [tag]
    return document


@pytest.fixture
def course(live_engine: Engine, author: tuple[User, str], category_slug: str) -> dict[str, Any]:
    """A published tree: its slug, name, tag and skill ids by key."""
    tag = unique("looptag")
    document = _course(category_slug, tag)
    ids = import_tree(live_engine, document, author[0])
    return {"slug": document["tree"]["slug"], "name": document["tree"]["name"], "tag": tag,
            "ids": ids}  # fmt: skip


@pytest.fixture
def learner(live_engine: Engine) -> str:
    """A new learner's token (no XP, no achievement yet)."""
    with committed(live_engine) as session:
        user = make_user(session, UserRole.LEARNER, username=unique("looper").replace("-", "_"))
        return make_token(session, user)


def _ready(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html[data-ready]")).to_have_count(1)
    expect(page.locator("main .loading")).to_have_count(0)


def _open_tree(page: Any, slug: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"/#/trees/{slug}")
    expect(page.locator("#graph[data-rendered]")).to_have_count(1)


def _node(page: Any, id_: str) -> Any:
    return page.locator(f'.node[data-id="{id_}"]')


def _details(page: Any) -> Any:
    return page.get_by_role("complementary", name="Skill details")


DISMISS_ALL = """() => {
    document.querySelectorAll("#toasts .toast-close").forEach((button) => button.click());
    return document.querySelectorAll("#toasts .toast").length === 0;
}"""
"""Dismiss every notification shown (each dismissal shows the next waiting at once), polled
until none is left."""


def _enrol(page: Any, course: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    _open_tree(page, course["slug"])
    page.locator("#enrol").click()
    expect(_node(page, course["ids"]["basics"])).to_have_attribute("data-state", "AVAILABLE")


def _act(page: Any, id_: str, action: str, state: str) -> None:
    from playwright.sync_api import expect

    _node(page, id_).click()
    expect(_details(page)).to_have_attribute("data-skill-id", id_)
    _details(page).locator(f'[data-action="{action}"]').click()
    expect(_node(page, id_)).to_have_attribute("data-state", state)


def _standing(page: Any) -> dict[str, Any]:
    bar = page.get_by_role("progressbar", name=re.compile("XP toward level"))
    return {
        "text": page.locator("#me-stats").inner_text(),
        "now": bar.get_attribute("aria-valuenow"),
        "max": bar.get_attribute("aria-valuemax"),
        "fill": page.locator(".xp-fill").evaluate("el => el.style.width"),
    }


def _me(page: Any) -> dict[str, Any]:
    """GET /me as the page's learner (what the header must agree with)."""
    profile: dict[str, Any] = page.evaluate(
        """async () => (await (await fetch("/api/v1/me", { headers: { Authorization:
            `Bearer ${localStorage.getItem("skilltree.token")}` } })).json()).profile"""
    )
    return profile


def test_the_header_shows_level_xp_and_streak_on_every_page_and_follows_each_event(
    new_page: Any, course: dict[str, Any], learner: str
) -> None:
    from playwright.sync_api import expect

    anonymous = new_page()
    anonymous.goto("/#/")
    _ready(anonymous)
    expect(anonymous.locator("#me-stats")).to_be_hidden()

    page = new_page(token=learner)
    page.goto("/#/")
    _ready(page)
    stats = page.get_by_role("group", name="Your level, XP and streak")
    expect(stats).to_be_visible()
    expect(stats).to_contain_text("Level 1")
    expect(stats).to_contain_text("0 XP")
    expect(stats).to_contain_text("0-day streak")
    assert _standing(page)["max"] == str(xp_for_level(2) - xp_for_level(1))

    _enrol(page, course)
    page.evaluate("window.stillTheSamePage = true")
    _act(page, course["ids"]["basics"], "complete", "COMPLETED")
    total = BASICS_XP + FIRST_KNOT_XP
    # Refreshed by the event, without a reload: level 2 spans 100 to 400 XP.
    expect(stats).to_contain_text("Level 2")
    expect(stats).to_contain_text(f"{total} XP")
    expect(stats).to_contain_text("1-day streak")
    standing = _standing(page)
    assert standing["now"] == str(total - xp_for_level(2))
    assert standing["max"] == str(xp_for_level(3) - xp_for_level(2))
    assert standing["fill"] == f"{round(100 * (total - xp_for_level(2)) / 300)}%"
    me = _me(page)
    assert (me["totalXp"], me["currentLevel"], me["currentStreak"]) == (total, 2, 1)

    _act(page, course["ids"]["knot1"], "complete", "COMPLETED")
    expect(stats).to_contain_text(f"{total + 10} XP")
    assert page.evaluate("window.stillTheSamePage") is True

    # Every page shows the same standing, as GET /me answers it.
    for address in ("/#/", "/#/profile", f"/#/trees/{course['slug']}", "/#/nowhere"):
        page.goto(address)
        _ready(page)
        expect(stats).to_contain_text(f"Level 2 {total + 10} XP")
        expect(stats).to_contain_text("1-day streak")


def test_a_completion_is_one_celebration_whose_xp_adds_up_and_pans_to_what_it_unlocked(
    new_page: Any, course: dict[str, Any], learner: str
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=learner, width=1280, height=900)
    # The page's clock, stopped before the completion: the notification stays until the test
    # moves time on (run_for), and the pan's frames run then.
    page.clock.install()
    _enrol(page, course)
    basics = course["ids"]["basics"]
    unlocked = [course["ids"][f"knot{i}"] for i in range(SPREAD)]
    # Zoomed in on the first skill (through the address): the row it unlocks runs off the screen.
    x, y = _node(page, basics).evaluate(
        "el => el.getAttribute('transform').match(/-?[\\d.]+/g).map(Number)"
    )
    page.goto(f"/#/trees/{course['slug']}?skill={basics}&view={x},{y},2.5")
    expect(page.locator("#graph")).to_have_attribute("data-zoom", "2.500")
    expect(_details(page)).to_have_attribute("data-skill-id", basics)
    off_screen = page.evaluate(ON_SCREEN, unlocked)
    assert not all(off_screen.values()), off_screen
    # The news of enrolling dismissed (however long the machine took to get here): the
    # celebration must not wait its turn behind it while the clock stands still.
    page.wait_for_function(DISMISS_ALL)
    page.clock.pause_at(page.evaluate("Date.now()") + 1)

    _details(page).locator('[data-action="complete"]').click()
    expect(_node(page, basics)).to_have_attribute("data-state", "COMPLETED")
    news = page.locator(".toast")
    expect(news).to_have_count(1)
    celebration = page.locator(".toast-celebrate")
    expect(celebration).to_have_count(1)
    expect(celebration).to_contain_text("Completed “Rope Basics”")
    expect(celebration).to_contain_text(f"Unlocked {SPREAD} skills:")
    for i in range(SPREAD):
        expect(celebration.get_by_role("button", name=f"Knot Number {i}")).to_be_visible()
    # The XP lines add up: the skill's own, the achievement's, and their sum (no part twice).
    parts = [int(text) for text in celebration.locator(".xp-part .xp-amount").all_inner_texts()
             for text in re.findall(r"\d+", text)]  # fmt: skip
    assert parts == [BASICS_XP, FIRST_KNOT_XP]
    expect(celebration.locator(".xp-part").first).to_contain_text(f"+{BASICS_XP} XP for “Rope")
    expect(celebration.locator(".xp-part").last).to_contain_text(
        f"+{FIRST_KNOT_XP} XP achievement “First Knot”"
    )
    expect(celebration.locator(".xp-sum")).to_have_text(
        f"= {sum(parts)} XP ({sum(parts)} XP in all)"
    )
    expect(celebration).to_contain_text("Level up! You reached level 2.")
    # Animated, and the map panned (and zoomed out as needed) to every unlocked skill.
    assert celebration.evaluate("el => getComputedStyle(el).animationName") == "celebrate-in"
    assert celebration.locator(".spark").first.evaluate(
        "el => getComputedStyle(el).animationName"
    ) == "spark"  # fmt: skip
    page.clock.run_for(1000)
    panned = page.evaluate("document.querySelector('#graph').dataset.panned")
    assert sorted(panned.split()) == sorted(unlocked)
    assert all(page.evaluate(ON_SCREEN, unlocked).values())
    expect(news).to_have_count(1)

    # An unlocked skill's button opens it.
    celebration.get_by_role("button", name="Knot Number 3").click()
    expect(_details(page)).to_have_attribute("data-skill-id", course["ids"]["knot3"])


# Whether each skill's box lies inside the graph's box on screen.
ON_SCREEN = """(ids) => {
    const box = document.querySelector("#graph").getBoundingClientRect();
    return Object.fromEntries(ids.map((id) => {
        const r = document.querySelector(`.node[data-id="${id}"] .body`).getBoundingClientRect();
        return [id, r.left >= box.left && r.right <= box.right && r.top >= box.top
                    && r.bottom <= box.bottom];
    }));
}"""


def test_reduced_motion_celebrates_without_movement(
    new_page: Any, course: dict[str, Any], learner: str
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=learner, reduced_motion="reduce")
    _enrol(page, course)
    _act(page, course["ids"]["basics"], "complete", "COMPLETED")
    celebration = page.locator(".toast-celebrate")
    expect(celebration).to_contain_text("Completed “Rope Basics”")
    assert celebration.evaluate("el => getComputedStyle(el).animationName") == "none"
    assert celebration.locator(".spark").first.evaluate(
        "el => getComputedStyle(el).animationName"
    ) == "none"  # fmt: skip
    assert page.evaluate("document.getAnimations().filter((a) => a.playState === 'running')"
                         ".map((a) => a.animationName || a.transitionProperty)") == []  # fmt: skip


# Whether the shown notification's box overlaps the details panel's box.
OVERLAP = """() => {
    const a = document.querySelector(".toast").getBoundingClientRect();
    const b = document.querySelector(".panel").getBoundingClientRect();
    return !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);
}"""


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)])
def test_notifications_wait_their_turn_and_never_cover_the_details(
    new_page: Any, course: dict[str, Any], learner: str, size: tuple[int, int]
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=learner, width=size[0], height=size[1])
    # The page's clock stops once the tree is drawn: no notification goes by itself meanwhile.
    page.clock.install()
    _open_tree(page, course["slug"])
    page.clock.pause_at(page.evaluate("Date.now()") + 1)
    page.locator("#enrol").click()
    expect(_node(page, course["ids"]["basics"])).to_have_attribute("data-state", "AVAILABLE")
    news = page.locator(".toast")
    expect(news).to_have_count(1)
    expect(news).to_contain_text("Enrolled in")
    # The skills as a list of buttons: every one reachable at any size.
    page.get_by_text("All skills as a list").click()
    listed = page.locator(".skill-list")
    listed.get_by_role("button", name="Rope Basics").click()
    _details(page).locator('[data-action="complete"]').click()
    expect(_node(page, course["ids"]["basics"])).to_have_attribute("data-state", "COMPLETED")
    for i in (1, 2):
        _details(page).get_by_role("button", name="Close the details").click()
        listed.get_by_role("button", name=f"Knot Number {i}", exact=True).click()
        _details(page).locator('[data-action="start"]').click()
        expect(_node(page, course["ids"][f"knot{i}"])).to_have_attribute(
            "data-state", "IN_PROGRESS"
        )
    # Four pieces of news, one shown at a time, the others waiting.
    expect(news).to_have_count(1)
    expect(page.locator("#toasts")).to_have_attribute("data-queued", "3")
    expect(_details(page)).to_be_visible()
    assert not page.evaluate(OVERLAP)
    titles = []
    for waiting in (2, 1, 0):
        titles.append(news.locator("strong").first.inner_text())
        news.get_by_role("button", name=re.compile("^Dismiss")).click()
        expect(page.locator("#toasts")).to_have_attribute("data-queued", str(waiting))
        expect(news).to_have_count(1)
        assert not page.evaluate(OVERLAP)
    titles.append(news.locator("strong").first.inner_text())
    assert titles[0].startswith("Enrolled in")
    assert titles[1:] == [
        "Completed “Rope Basics”",
        "Started “Knot Number 1”",
        "Started “Knot Number 2”",
    ]
    news.get_by_role("button", name=re.compile("^Dismiss")).click()
    expect(news).to_have_count(0)


def test_the_catalog_offers_to_continue_and_shows_progress_on_tree_cards(
    new_page: Any, course: dict[str, Any], learner: str
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=learner)
    page.goto("/#/")
    _ready(page)
    expect(page.get_by_role("region", name="Continue learning")).to_have_count(0)

    _enrol(page, course)
    _act(page, course["ids"]["basics"], "complete", "COMPLETED")
    page.goto("/#/")
    _ready(page)
    resume = page.get_by_role("region", name="Continue learning")
    expect(resume.get_by_role("link", name=course["name"])).to_be_visible()
    expected = page.evaluate(
        """async (slug) => (await (await fetch(`/api/v1/me/trees/${slug}/next?limit=1`, {
            headers: { Authorization: `Bearer ${localStorage.getItem("skilltree.token")}` },
        })).json()).recommendations[0].skill""",
        course["slug"],
    )
    percent = page.evaluate(
        """async (slug) => Math.round((await (await fetch("/api/v1/me/progress", {
            headers: { Authorization: `Bearer ${localStorage.getItem("skilltree.token")}` },
        })).json()).trees.find((entry) => entry.tree.slug === slug).progress.progressPercent)""",
        course["slug"],
    )
    assert percent > 0
    expect(resume.get_by_role("progressbar")).to_have_attribute("aria-valuenow", str(percent))
    resume.get_by_role("link", name=expected["name"]).click()
    expect(_details(page)).to_have_attribute("data-skill-id", expected["id"])
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    page.goto(f"/#/?tag={course['tag']}")
    _ready(page)
    card = page.locator(".tree-card", has_text=course["name"])
    bar = card.get_by_role("progressbar", name=f"Your progress in {course['name']}")
    expect(bar).to_have_attribute("aria-valuenow", str(percent))
    expect(card).to_contain_text(f"1 of {SPREAD + 2} skills")
    # With filters the page is a search, not a start page: no "continue learning".
    expect(page.get_by_role("region", name="Continue learning")).to_have_count(0)
