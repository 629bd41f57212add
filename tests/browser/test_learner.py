"""A learner in the browser: signs up, finds a tree, enrols, completes a skill and sees the skill
that needed it unlock in place; asks what next and the path to a skill; signs out and in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.data import import_tree, output_dir, tree_file, unique

from skilltree.models import User


def _course(category: str) -> tuple[dict[str, Any], str]:
    name = f"Knot Tying {unique('course')}"
    skills = [
        {"key": "basics", "name": "Rope Basics", "xpValue": 120, "estimatedMinutes": 30,
         "description": "What a rope is made of.", "learningObjectives": ["Name the parts"],
         "resources": [{"type": "link", "title": "Rope guide", "url": "https://example.org/rope"}]},
        {"key": "bowline", "name": "Bowline", "dependencies": ["basics"], "xpValue": 30},
        {"key": "hitch", "name": "Clove Hitch", "dependencies": ["basics"], "isOptional": True},
        {"key": "master", "name": "Knot Master", "dependencies": ["bowline", "hitch"],
         "isMilestone": True, "nodeSize": 3},
    ]  # fmt: skip
    return tree_file(category, unique("knots"), name, skills), name


def test_a_learner_completes_a_skill_and_its_dependent_unlocks_without_a_reload(
    new_page: Any,
    live_engine: Engine,
    author: tuple[User, str],
    category_slug: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from playwright.sync_api import expect

    document, name = _course(category_slug)
    ids = import_tree(live_engine, document, author[0])
    username = unique("learner").replace("-", "_")
    page = new_page()

    page.goto("/#/signup")
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#nav")).to_contain_text(f"Signed in as {username}")

    page.get_by_label("Search", exact=True).fill(name.split()[-1])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=name).first.click()
    page.get_by_role("button", name="Enrol").click()

    node = {key: page.locator(f'.node[data-id="{id_}"]') for key, id_ in ids.items()}
    expect(node["basics"]).to_have_attribute("data-state", "AVAILABLE")
    expect(node["bowline"]).to_have_attribute("data-state", "LOCKED")
    expect(node["bowline"]).to_have_attribute("aria-label", re.compile("Bowline: Locked"))
    page.evaluate("window.stillTheSamePage = true")

    node["basics"].click()
    details = page.get_by_role("complementary", name="Skill details")
    expect(details).to_contain_text("What a rope is made of.")
    expect(details.get_by_role("link", name="Rope guide")).to_have_attribute(
        "href", "https://example.org/rope"
    )
    details.get_by_role("button", name="Complete").click()

    expect(node["bowline"]).to_have_attribute("data-state", "AVAILABLE")
    expect(node["hitch"]).to_have_attribute("data-state", "AVAILABLE")
    expect(node["basics"]).to_have_attribute("data-state", "COMPLETED")
    expect(node["master"]).to_have_attribute("data-state", "LOCKED")
    # One piece of news at a time: the enrolment's (until it goes), then the celebration.
    expect(page.locator(".toast")).to_have_count(1)
    news = page.locator(".toast-celebrate")
    expect(news).to_contain_text("+120 XP for “Rope Basics”")
    expect(news).to_contain_text("+5 XP achievement “First Knot”")
    expect(news).to_contain_text("= 125 XP (125 XP in all)")
    expect(news).to_contain_text("Level up! You reached level 2.")
    expect(news).to_contain_text("Unlocked 2 skills:")
    expect(page.get_by_role("progressbar", name="Progress in this tree")).to_have_attribute(
        "aria-valuenow", "25"
    )
    assert page.evaluate("window.stillTheSamePage") is True
    page.screenshot(path=str(output_dir(tmp_path_factory) / "tree-page.png"))

    # Locked: the details say what is missing; the path to it lights up its route.
    node["master"].click()
    expect(details.locator(".missing")).to_contain_text("Bowline")
    details.get_by_role("button", name="Path to this skill").click()
    for key in ("bowline", "hitch", "master"):
        expect(node[key]).to_have_class(re.compile(r"\broute\b"))
    expect(node["basics"]).not_to_have_class(re.compile(r"\broute\b"))
    expect(page.get_by_role("complementary", name="Route")).to_contain_text("Bowline")

    # Skipping the optional skill is offered; what next points at what is available.
    node["hitch"].click()
    details.get_by_role("button", name="Skip (optional)").click()
    expect(node["hitch"]).to_have_attribute("data-state", "SKIPPED")
    page.get_by_role("button", name="What next?").click()
    expect(node["bowline"]).to_have_class(re.compile(r"\bnext\b"))

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("region", name="Totals")).to_contain_text("125")
    expect(page.locator(".achievement.earned")).to_contain_text("First Knot")
    expect(page.locator(".leaderboard tr.me")).to_contain_text(username)
    expect(page.get_by_role("link", name=name)).to_be_visible()
    calendar = page.get_by_role("group", name=re.compile("Activity in the last year"))
    today = calendar.locator(".day").last
    expect(today).to_have_attribute("aria-label", re.compile(r"\d+ events?, \d+ XP"))
    page.screenshot(path=str(output_dir(tmp_path_factory) / "profile.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill("a wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="not correct")).to_be_visible()
    page.get_by_label("Password").fill("a long password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#nav")).to_contain_text(f"Signed in as {username}")
