"""Completion policies in the browser (issue 14, part 1): the author sets how a skill is
completed in the skill form; a learner sees it in the details, and the Complete button only where
marking it done completes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from tests.browser.data import committed, import_tree, tree_file, unique
from tests.factories import make_token, make_user

from skilltree.models import Skill, User


def test_an_author_sets_how_a_skill_is_completed_and_a_learner_sees_it(
    new_page: Any, live_engine: Engine, author: tuple[User, str], category_slug: str
) -> None:
    from playwright.sync_api import expect

    name = f"Rigging {unique('policy')}"
    document = tree_file(
        category_slug,
        unique("policy"),
        name,
        [{"key": "knots", "name": "Knots"}, {"key": "splice", "name": "Splice"}],
    )
    ids = import_tree(live_engine, document, author[0])
    page = new_page(token=author[1])
    page.goto(f"/#/trees/{document['tree']['slug']}")
    page.get_by_role("button", name="Edit graph").click()
    page.locator(f'.node[data-id="{ids["knots"]}"]').click()
    details = page.get_by_role("complementary", name="Skill details")
    details.get_by_role("button", name="Edit skill").click()

    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("checkbox", name="Marked done by the learner")).to_be_checked()
    dialog.get_by_role("checkbox", name="Marked done by the learner").uncheck()
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.locator(".form-error")).to_have_text(
        "Choose at least one way to complete the skill."
    )
    dialog.get_by_role("checkbox", name="Passing an assessment").check()
    dialog.get_by_label("Passing score (%)").fill("80")
    dialog.get_by_role("checkbox", name="Time spent on it").check()
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.locator(".form-error")).to_contain_text("whole number of minutes")
    dialog.get_by_label("Minutes needed").fill("45")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.locator(".edit-status")).to_have_text("Saved “Knots”.")
    with committed(live_engine) as session:
        skill = session.get(Skill, ids["knots"])
        assert skill is not None
        assert skill.completion_policy == {
            "ASSESSMENT": {"passingScore": 80},
            "TIME_BASED": {"minutes": 45},
        }
    expect(details).to_contain_text("Passing its assessment with 80%, or 45 min spent on it")

    # The form shows the policy it saved.
    details.get_by_role("button", name="Edit skill").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("checkbox", name="Passing an assessment")).to_be_checked()
    expect(dialog.get_by_role("checkbox", name="Marked done by the learner")).not_to_be_checked()
    expect(dialog.get_by_label("Minutes needed")).to_have_value("45")
    dialog.get_by_role("button", name="Cancel").click()

    # A learner: no Complete button where marking it done does not complete the skill.
    with committed(live_engine) as session:
        learner = make_user(session, username=unique("learner").replace("-", "_"))
        token = make_token(session, learner)
    page = new_page(token=token)
    page.goto(f"/#/trees/{document['tree']['slug']}")
    page.get_by_role("button", name="Enrol").click()
    page.locator(f'.node[data-id="{ids["knots"]}"]').click()
    details = page.get_by_role("complementary", name="Skill details")
    expect(details).to_contain_text("it takes passing its assessment with 80%")
    expect(details.get_by_role("button", name="Complete")).to_have_count(0)
    page.locator(f'.node[data-id="{ids["splice"]}"]').click()
    expect(details).to_contain_text("Marking it done")
    details.get_by_role("button", name="Complete").click()
    expect(page.locator(f'.node[data-id="{ids["splice"]}"]')).to_have_attribute(
        "data-state", "COMPLETED"
    )
