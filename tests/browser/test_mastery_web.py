"""Mastery in the web app (issue 14, part 8): each completed node of the learner's map shows its
level, in its accessible name too, and an overdue skill shows "Review due" (never a level); the
profile lists the reviews due, each with its tree, how overdue and an action: the review quiz of
a skill with a question bank, Again/Hard/Good/Easy for one without. No axe violation in light or
dark on either page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from tests.browser.axe import violations
from tests.browser.data import committed, import_tree, tree_file, unique
from tests.factories import make_token, make_user

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.models import User, UserRole
from skilltree.progress import service as progress_service
from skilltree.progress.schemas import CompleteRequest

BANK = {
    "settings": {"passingScore": 100},
    "questions": [
        {"id": "single", "kind": "SINGLE_CHOICE", "prompt": "Which knot makes a fixed loop?",
         "explanation": "The bowline.",
         "options": [{"id": "bowline", "text": "Bowline"}, {"id": "hitch", "text": "Hitch"}],
         "correct": "bowline"},
    ],
}  # fmt: skip


@pytest.fixture
def reviews(live_engine: Engine, author: tuple[User, str], category_slug: str) -> dict[str, Any]:
    """A learner who completed `banked` (a question bank), `faded` (none) and `fresh` (none),
    the first two 40 days ago (so overdue), `fresh` now; `later` is not completed."""
    manual = {"MANUAL": {}}
    document = tree_file(
        category_slug,
        unique("mastery"),
        f"Mastery Knots {unique('m')}",
        [
            {"key": "banked", "name": "Banked Bowline", "completionPolicy": manual,
             "questionBank": BANK},
            {"key": "faded", "name": "Faded Hitch", "completionPolicy": manual},
            {"key": "fresh", "name": "Fresh Reef", "completionPolicy": manual},
            {"key": "later", "name": "Later Splice", "dependencies": ["fresh"]},
        ],
    )  # fmt: skip
    slug = document["tree"]["slug"]
    ids = import_tree(live_engine, document, author[0])
    with committed(live_engine) as session:
        learner = make_user(session, UserRole.LEARNER, username=unique("rev").replace("-", "_"))
        token = make_token(session, learner)
        act_as_learner(session, learner.id)
        progress_service.enrol(session, learner, slug)
        for key in ("banked", "faded", "fresh"):
            progress_service.complete(session, learner, ids[key], CompleteRequest())
        # Time moves in SQL (as tests/mastery do): the two completions were 40 days ago.
        act_as_owner(session)
        session.execute(
            text(
                "UPDATE user_skill_progress SET completed_at = completed_at - interval '40 days'"
                " WHERE user_id = :u AND skill_id = ANY(:s)"
            ),
            {"u": learner.id, "s": [ids["banked"], ids["faded"]]},
        )
    return {"slug": slug, "name": document["tree"]["name"], "ids": ids, "token": token}


def _node(page: Any, id_: str) -> Any:
    return page.locator(f'.node[data-id="{id_}"]')


def _open_tree(page: Any, slug: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"/#/trees/{slug}")
    expect(page.locator("#graph[data-rendered]")).to_have_count(1)
    expect(page.locator('#graph[data-mastery="shown"]')).to_have_count(1)


def test_the_map_shows_mastery_on_each_completed_node_and_due_ones_as_due(
    new_page: Any, reviews: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=reviews["token"])
    _open_tree(page, reviews["slug"])
    ids = reviews["ids"]
    for key in ("banked", "faded"):
        node = _node(page, ids[key])
        expect(node).to_have_attribute("data-state", "COMPLETED")
        expect(node).to_have_attribute("data-mastery", "due")
        expect(node.locator(".sub")).to_have_text("Review due · 10 XP")
        assert "Mastered" not in str(node.get_attribute("aria-label"))
    fresh = _node(page, ids["fresh"])
    expect(fresh).to_have_attribute("data-mastery", "familiar")
    expect(fresh.locator(".sub")).to_have_text("Familiar · 10 XP")
    expect(_node(page, ids["later"])).to_have_attribute("data-mastery", "")
    # Label in name (WCAG 2.5.3): the words drawn are in the accessible name, in order.
    for key in ("banked", "fresh"):
        node = _node(page, ids[key])
        name = str(node.get_attribute("aria-label"))
        sub = node.locator(".sub").text_content() or ""
        level_words, xp = sub.split(" · ")
        assert name.index(level_words) < name.index(xp), (name, sub)
    assert "Fresh Reef: Familiar, 10 XP" in str(fresh.get_attribute("aria-label"))
    # Zoomed out, the map labels name the skills: a due one's label is marked (an outline).
    for _ in range(4):
        page.locator("#graph").press("-")
    expect(page.locator("#graph.zoom-labels")).to_have_count(1)
    expect(page.locator(f'.map-label[data-id="{ids["faded"]}"]')).to_have_attribute(
        "data-mastery", "due"
    )


def test_the_profile_lists_reviews_due_and_rates_recall(
    new_page: Any, reviews: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=reviews["token"])
    page.goto("/#/profile")
    section = page.get_by_role("region", name="Reviews due")
    items = section.locator("li[data-skill]")
    expect(items).to_have_count(2)
    ids = reviews["ids"]
    banked = section.locator(f'li[data-skill="{ids["banked"]}"]')
    faded = section.locator(f'li[data-skill="{ids["faded"]}"]')
    expect(banked).to_contain_text(f"in {reviews['name']} · Familiar · ")
    expect(banked).to_contain_text("days overdue")
    expect(
        banked.get_by_role("link", name="Take the review quiz: Banked Bowline")
    ).to_have_attribute("href", f"#/trees/{reviews['slug']}?skill={ids['banked']}")
    expect(banked.get_by_role("button")).to_have_count(0)
    group = faded.get_by_role("group", name="How well do you recall Faded Hitch?")
    for word in ("Again", "Hard", "Good", "Easy"):
        expect(group.get_by_role("button", name=word, exact=True)).to_be_visible()
    group.get_by_role("button", name="Good", exact=True).click()
    # The rating is recorded: the skill is no longer due, on the profile nor on the map.
    expect(items).to_have_count(1)
    expect(section.locator(f'li[data-skill="{ids["faded"]}"]')).to_have_count(0)
    _open_tree(page, reviews["slug"])
    expect(_node(page, ids["faded"])).not_to_have_attribute("data-mastery", "due")
    expect(_node(page, ids["banked"])).to_have_attribute("data-mastery", "due")
    # The banked one's action opens the skill, whose panel offers the review quiz.
    page.goto("/#/profile")
    page.get_by_role("link", name="Take the review quiz: Banked Bowline").click()
    details = page.get_by_role("complementary", name="Skill details")
    expect(details).to_have_attribute("data-skill-id", ids["banked"])
    # The review quiz: a fresh draw, graded; the review moves the node off "Review due".
    details.get_by_role("button", name="Start the quiz").click()
    details.get_by_role("radio", name="Bowline").check()
    details.get_by_role("button", name="Submit answers").click()
    expect(details.locator(".quiz-review")).to_contain_text("Review recorded")
    expect(_node(page, ids["banked"])).not_to_have_attribute("data-mastery", "due")
    expect(_node(page, ids["banked"])).to_have_attribute("data-state", "COMPLETED")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reviews_and_mastery_have_no_axe_violation(
    new_page: Any, reviews: dict[str, Any], scheme: str
) -> None:
    from playwright.sync_api import expect

    page = new_page(token=reviews["token"], color_scheme=scheme, bypass_csp=True)
    page.goto("/#/profile")
    expect(page.get_by_role("region", name="Reviews due").locator("li[data-skill]")).to_have_count(
        2
    )
    expect(page.locator("main .loading")).to_have_count(0)
    assert violations(page) == []
    _open_tree(page, reviews["slug"])
    expect(_node(page, reviews["ids"]["faded"])).to_have_attribute("data-mastery", "due")
    assert violations(page) == []
