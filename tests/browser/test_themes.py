"""Light and dark themes: the system's preference is followed, the header's toggle (System,
Light, Dark) is remembered and applied before the first paint, the map and its minimap follow the
theme's CSS variables, and axe-core finds no violation (WCAG 2 A and AA, colour contrast among
them, label in name too, and best practices: tests/browser/axe.py) on the catalog, a tree page and
the profile in either theme, whether chosen by the system or by the toggle."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.axe import violations
from tests.browser.data import committed, import_tree, output_dir, tree_file, unique
from tests.factories import make_token, make_user

from skilltree.models import User, UserRole

# Records the theme on <html> when <body> is first parsed: nothing can be painted before then.
THEME_AT_BODY = """
new MutationObserver((records, observer) => {
    if (!document.body) return;
    window.themeAtBody = document.documentElement.getAttribute("data-theme");
    observer.disconnect();
}).observe(document, { childList: true, subtree: true });
"""


def _course(category: str) -> dict[str, Any]:
    skills = [
        {"key": "basics", "name": "Rope Basics", "xpValue": 40},
        {"key": "bowline", "name": "Bowline", "dependencies": ["basics"]},
        {"key": "hitch", "name": "Clove Hitch", "dependencies": ["basics"], "isOptional": True},
        {"key": "splice", "name": "Eye Splice", "dependencies": ["basics"]},
        {"key": "master", "name": "Knot Master", "dependencies": ["bowline", "hitch"],
         "isMilestone": True},
    ]  # fmt: skip
    return tree_file(category, unique("themed"), f"Themed Knots {unique('t')}", skills)


@pytest.fixture
def learner(live_engine: Engine) -> str:
    with committed(live_engine) as session:
        user = make_user(session, UserRole.LEARNER, username=unique("themed").replace("-", "_"))
        return make_token(session, user)


@pytest.fixture
def course(live_engine: Engine, author: tuple[User, str], category_slug: str) -> str:
    """A published tree's slug."""
    document = _course(category_slug)
    import_tree(live_engine, document, author[0])
    return str(document["tree"]["slug"])


def _toggle(page: Any) -> Any:
    return page.get_by_role("combobox", name="Theme", exact=True)


def _theme(page: Any) -> str:
    return str(page.evaluate("document.documentElement.getAttribute('data-theme')"))


def _ready(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html[data-ready]")).to_have_count(1)
    # The view has drawn (no "Loading…" left) and no transition is running.
    expect(page.locator("main .loading")).to_have_count(0)
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")


def _learn(page: Any, slug: str) -> None:
    """Enrol in the tree and complete its first skill: every state is on the map."""
    from playwright.sync_api import expect

    page.goto(f"/#/trees/{slug}")
    page.get_by_role("button", name="Enrol").click()
    basics = page.locator(".node", has_text="Rope Basics")
    expect(basics).to_have_attribute("data-state", "AVAILABLE")
    basics.click()
    details = page.get_by_role("complementary", name="Skill details")
    details.get_by_role("button", name="Complete").click()
    expect(basics).to_have_attribute("data-state", "COMPLETED")
    page.locator(".node", has_text="Bowline").click()
    details.get_by_role("button", name="Start").click()
    expect(page.locator(".node", has_text="Bowline")).to_have_attribute("data-state", "IN_PROGRESS")


def _check_pages(page: Any, slug: str, theme: str) -> None:
    """Catalog, the tree page (with every state drawn) and the profile: `theme` and no violation."""
    from playwright.sync_api import expect

    found: dict[str, Any] = {}
    _learn(page, slug)
    for address, what in (
        (f"/#/trees/{slug}", "tree"),
        ("/#/", "catalog"),
        ("/#/profile", "profile"),
    ):
        page.goto(address)
        if what == "tree":
            expect(page.locator("#graph[data-rendered]")).to_have_count(1)
        _ready(page)
        assert _theme(page) == theme, what
        found[what] = violations(page)
    assert found == {"tree": [], "catalog": [], "profile": []}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_system_theme_is_followed_with_aa_contrast(
    new_page: Any, course: str, learner: str, scheme: str
) -> None:
    page = new_page(token=learner, color_scheme=scheme, bypass_csp=True)
    _check_pages(page, course, scheme)


def test_dark_chosen_by_the_toggle_has_aa_contrast(
    new_page: Any,
    course: str,
    learner: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    page = new_page(token=learner, color_scheme="light", bypass_csp=True)
    page.goto("/#/")
    _ready(page)
    assert _theme(page) == "light"
    _toggle(page).select_option("dark")
    assert _theme(page) == "dark"
    _check_pages(page, course, "dark")
    page.goto(f"/#/trees/{course}")
    _ready(page)
    page.screenshot(path=str(output_dir(tmp_path_factory) / "tree-page-dark.png"))


def test_the_toggle_is_remembered_and_applied_before_the_first_paint(new_page: Any) -> None:
    from playwright.sync_api import expect

    page = new_page(color_scheme="light")
    page.context.add_init_script(THEME_AT_BODY)
    page.goto("/#/")
    _ready(page)
    toggle = _toggle(page)
    expect(toggle).to_have_value("system")
    assert page.evaluate("window.themeAtBody") == "light"

    toggle.select_option("dark")
    assert _theme(page) == "dark"
    page.reload()
    _ready(page)
    expect(_toggle(page)).to_have_value("dark")
    # Set before <body> was parsed: the page is never painted light first.
    assert page.evaluate("window.themeAtBody") == "dark"
    # A chosen theme holds whatever the system prefers.
    page.emulate_media(color_scheme="dark")
    assert _theme(page) == "dark"
    page.emulate_media(color_scheme="light")
    assert _theme(page) == "dark"

    _toggle(page).select_option("light")
    page.reload()
    _ready(page)
    expect(_toggle(page)).to_have_value("light")
    assert page.evaluate("window.themeAtBody") == "light"
    page.emulate_media(color_scheme="dark")
    assert _theme(page) == "light"


def test_system_follows_the_preference_as_it_changes(new_page: Any) -> None:
    from playwright.sync_api import expect

    page = new_page(color_scheme="dark")
    page.goto("/#/")
    _ready(page)
    _toggle(page).select_option("light")
    assert _theme(page) == "light"
    _toggle(page).select_option("system")
    assert _theme(page) == "dark"
    page.reload()
    _ready(page)
    expect(_toggle(page)).to_have_value("system")
    assert _theme(page) == "dark"
    assert page.evaluate("localStorage.getItem('skilltree.theme')") is None
    # The system's preference changes while the page is open: the page follows.
    page.emulate_media(color_scheme="light")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    page.emulate_media(color_scheme="dark")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")


# The colour of each drawn piece of the map, and the CSS variables it should come from.
MAP_COLOURS = """() => {
    const root = getComputedStyle(document.documentElement);
    const probe = document.createElement("div");
    document.body.append(probe);
    const resolve = (name) => {
        probe.style.color = root.getPropertyValue(name).trim();
        return getComputedStyle(probe).color;
    };
    const node = (state) => document.querySelector(`.node[data-state="${state}"] .body`);
    const answer = {
        available: [getComputedStyle(node("AVAILABLE")).stroke, resolve("--available")],
        completedFill: [getComputedStyle(node("COMPLETED")).fill, resolve("--completed")],
        nodeBg: [getComputedStyle(node("IN_PROGRESS")).fill, resolve("--progress-bg")],
        edge: [getComputedStyle(document.querySelector(".edge:not(.satisfied)")).stroke,
               resolve("--edge")],
        name: [getComputedStyle(document.querySelector(".node[data-state='AVAILABLE'] .name")).fill,
               resolve("--ink")],
    };
    probe.remove();
    return answer;
}"""

# The minimap's pixel at the centre of the first completed skill, and --completed.
MINIMAP_PIXEL = """() => {
    const canvas = document.querySelector(".minimap-canvas");
    const ctx = canvas.getContext("2d");
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] === 255)
        colours.add(`rgb(${data[i]}, ${data[i + 1]}, ${data[i + 2]})`);
    const probe = document.createElement("div");
    document.body.append(probe);
    probe.style.color = getComputedStyle(document.documentElement).getPropertyValue("--completed");
    const completed = getComputedStyle(probe).color;
    probe.remove();
    return { completed, drawn: colours.has(completed) };
}"""


def test_the_map_and_minimap_follow_the_theme(new_page: Any, course: str, learner: str) -> None:
    from playwright.sync_api import expect

    page = new_page(token=learner, color_scheme="light")
    _learn(page, course)
    light = page.evaluate(MAP_COLOURS)
    assert all(drawn == wanted for drawn, wanted in light.values()), light
    for _ in range(4):
        page.get_by_role("button", name="Zoom in").click()
    expect(page.locator(".minimap")).to_be_visible()
    light_minimap = page.evaluate(MINIMAP_PIXEL)
    assert light_minimap["drawn"], light_minimap

    _toggle(page).select_option("dark")
    dark = page.evaluate(MAP_COLOURS)
    assert all(drawn == wanted for drawn, wanted in dark.values()), dark
    assert all(dark[key][0] != light[key][0] for key in light), (light, dark)
    dark_minimap = page.evaluate(MINIMAP_PIXEL)
    assert dark_minimap["drawn"], dark_minimap
    assert dark_minimap["completed"] != light_minimap["completed"]
