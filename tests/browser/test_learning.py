"""Learning in the web app (issue 14, part 8): a skill's content modules in the skill panel
(Markdown rendered safely, videos embedded only from allowed players, heartbeats while a module
is open), the quiz (a timer, one submit, results with explanations only afterwards, refusals in
plain words, a pass that completes the skill on the map), the project submission with its
feedback, and the reviewer's queue with rubric scoring. axe-core finds no violation on each view
in the light and the dark theme."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from tests.browser.axe import violations
from tests.browser.data import committed, import_tree, tree_file, unique
from tests.browser.test_themes import _ready
from tests.factories import make_token, make_user

from skilltree.models import User, UserRole
from skilltree.web.router import CONTENT_SECURITY_POLICY, EMBED_HOSTS

EMBEDS_JS = Path(__file__).parents[2] / "src/skilltree/web/static/js/embeds.js"
EXPLAIN = "EXPLAINMARK5d2b"
"""In every explanation: on the page only once the attempt is submitted."""

ARTICLE = f"""# Knots {unique("md")}

Tie a **bowline** with *care*; see [the guide](https://example.org/bowline) and `code`.

## Steps

- Make a loop
- Pass the end <b>through</b>

<script>window.injected = true</script>
<img src=x onerror="window.injected = true">

[a trap](javascript:window.injected=true) and ![a picture](https://example.org/a.png)

> Practice daily.
"""


def _learner(engine: Engine, prefix: str = "learner") -> tuple[User, str]:
    with committed(engine) as session:
        user = make_user(session, UserRole.LEARNER, username=unique(prefix).replace("-", "_"))
        return user, make_token(session, user)


def _both_themes(new_page: Any, token: str, visit: Any) -> None:
    """`visit(page)` in the light and the dark theme, then axe-core: no violation in either."""
    found = {}
    for scheme in ("light", "dark"):
        page = new_page(token=token, color_scheme=scheme, bypass_csp=True)
        visit(page)
        _ready(page)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        found[scheme] = violations(page)
    assert found == {"light": [], "dark": []}


def _published(engine: Engine, author: User, category: str, prefix: str, skills: list[Any]) -> Any:
    """A published tree of `skills` by `author`: its slug and its skills' ids by key."""
    document = tree_file(category, unique(prefix), f"{prefix.title()} {unique(prefix)}", skills)
    return {"slug": document["tree"]["slug"], **import_tree(engine, document, author)}


def _module(title: str, kind: str, resources: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {"title": title, "type": kind, "estimatedMinutes": 10, "resources": resources, **extra}


def _enrol_and_open(page: Any, slug: str, skill_id: str) -> Any:
    """Open the tree (enrolling when not yet), then the skill's details, loaded."""
    from playwright.sync_api import expect

    page.goto(f"/#/trees/{slug}")
    expect(page.locator("#graph[data-rendered]")).to_have_count(1)
    enrol = page.get_by_role("button", name="Enrol", exact=True)
    if enrol.count():
        enrol.click()
        expect(enrol).to_have_count(0)
    return _open(page, skill_id)


def _open(page: Any, skill_id: str) -> Any:
    """The skill's details, its learning section loaded."""
    from playwright.sync_api import expect

    page.locator(f'.node[data-id="{skill_id}"]').click()
    details = page.get_by_role("complementary", name="Skill details")
    expect(details).to_have_attribute("data-skill-id", skill_id)
    expect(details.locator(".learn")).to_have_count(1)
    expect(details.locator(".learn[aria-busy]")).to_have_count(0)
    return details


# --- content modules ---


def test_the_embed_allowlist_is_the_pages_frame_policy() -> None:
    listed = re.search(r"EMBED_HOSTS = \[([^\]]*)\]", EMBEDS_JS.read_text())
    assert listed is not None
    assert re.findall(r'"([^"]+)"', listed.group(1)) == list(EMBED_HOSTS)
    assert f"frame-src {' '.join(EMBED_HOSTS)}" in CONTENT_SECURITY_POLICY


@pytest.fixture
def course(live_engine: Engine, author: tuple[User, str], category_slug: str) -> dict[str, Any]:
    """A tree with `read` (an article, a video from an allowed player, one from elsewhere)."""
    return _published(
        live_engine,
        author[0],
        category_slug,
        "modules",
        [
            {
                "key": "read",
                "name": "Reading Knots",
                "content": {
                    "type": "structured",
                    "modules": [
                        _module("The article", "article", [], id="article", body=ARTICLE),
                        _module(
                            "The video",
                            "video",
                            [
                                {"type": "embed", "title": "Bowline on video",
                                 "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
                                {"type": "embed", "title": "Elsewhere",
                                 "url": "https://videos.example.com/watch/12"},
                                {"type": "link", "title": "Vimeo's page",
                                 "url": "http://vimeo.com/76979871"},
                            ],
                            id="video",
                        ),
                    ],
                },
            }
        ],
    )  # fmt: skip


COUNT_BEATS = """
window.beats = 0;
const realFetch = window.fetch;
window.fetch = (...args) => {
    if (String(args[0]).endsWith("/heartbeat")) window.beats += 1;
    return realFetch(...args);
};
"""


def test_modules_show_safe_markdown_allowed_embeds_and_send_heartbeats(
    new_page: Any, live_engine: Engine, course: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    user, token = _learner(live_engine)
    page = new_page(token=token)
    page.add_init_script(COUNT_BEATS)
    page.clock.install()
    details = _enrol_and_open(page, course["slug"], course["read"])
    learn = details.get_by_role("region", name="Learn")
    expect(learn.locator("details.module")).to_have_count(2)

    # Opening the article sends the first heartbeat (the module is opened).
    with page.expect_response(lambda r: r.url.endswith("/modules/article/heartbeat")) as first:
        learn.get_by_text("The article").click()
    assert first.value.status == 200
    article = learn.locator('details[data-module="article"]')
    expect(article.locator(".module-status")).to_have_text("Opened · less than a minute")
    markdown = article.locator(".markdown")
    expect(markdown.get_by_role("heading", name="Steps")).to_be_visible()
    expect(markdown.locator("strong")).to_have_text("bowline")
    expect(markdown.get_by_role("link", name="the guide")).to_have_attribute(
        "href", "https://example.org/bowline"
    )
    # Raw HTML is text, never markup; a javascript: link and an image are no live link nor image.
    expect(markdown).to_contain_text("<script>window.injected = true</script>")
    assert markdown.locator("script, img, b, [onerror]").count() == 0
    expect(markdown.locator(".md-unsafe-link")).to_have_text("a trap")
    assert markdown.locator('a[href^="javascript"]').count() == 0
    expect(markdown.get_by_role("link", name="Image: a picture")).to_have_count(1)
    assert page.evaluate("window.injected") is None

    # Time on it: one heartbeat each half of the most one counts, while it is open.
    assert page.evaluate("window.beats") == 1
    with page.expect_response(lambda r: r.url.endswith("/modules/article/heartbeat")):
        page.clock.run_for(31_000)
    assert page.evaluate("window.beats") == 2
    with committed(live_engine) as session:
        beats = session.execute(
            text(
                "SELECT heartbeats FROM user_skill_module_progress"
                " WHERE user_id = :user AND skill_id = :skill AND module_id = 'article'"
            ),
            {"user": user.id, "skill": course["read"]},
        ).scalar_one()
    assert beats == 2
    expect(article.get_by_role("button", name="Mark done")).to_be_visible()
    # Closed, it beats no more.
    article.locator("summary").click()
    page.clock.run_for(120_000)
    assert page.evaluate("window.beats") == 2

    # Videos: embedded from the allowed player only; anything else is a plain link.
    learn.get_by_text("The video").click()
    video = learn.locator('details[data-module="video"]')
    frames = video.locator("iframe")
    expect(frames).to_have_count(1)
    expect(frames).to_have_attribute("src", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    expect(frames).to_have_attribute("title", "Bowline on video")
    expect(video.get_by_role("link", name="Elsewhere")).to_have_attribute(
        "href", "https://videos.example.com/watch/12"
    )
    expect(video.get_by_role("link", name="Vimeo's page")).to_have_count(1)


def test_modules_have_no_accessibility_violation_in_either_theme(
    new_page: Any, live_engine: Engine, course: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    _, token = _learner(live_engine)

    def visit(page: Any) -> None:
        details = _enrol_and_open(page, course["slug"], course["read"])
        details.get_by_text("The article").click()
        expect(details.locator(".module-status").first).to_contain_text("Opened")

    _both_themes(new_page, token, visit)


# --- the quiz ---


def _bank(**settings: Any) -> dict[str, Any]:
    return {
        "settings": {"passingScore": 100, **settings},
        "questions": [
            {"id": "single", "kind": "SINGLE_CHOICE", "prompt": "Which knot makes a fixed loop?",
             "explanation": f"The bowline. {EXPLAIN}",
             "options": [{"id": "bowline", "text": "Bowline"}, {"id": "hitch", "text": "Hitch"}],
             "correct": "bowline"},
            {"id": "multi", "kind": "MULTIPLE_CHOICE", "prompt": "Which are hitches?",
             "explanation": f"Clove and round turn. {EXPLAIN}",
             "options": [{"id": "clove", "text": "Clove"}, {"id": "round", "text": "Round turn"},
                         {"id": "reef", "text": "Reef"}],
             "correct": ["clove", "round"]},
            {"id": "number", "kind": "NUMERIC", "prompt": "How many ends has a rope?",
             "explanation": f"Two. {EXPLAIN}", "answer": 2},
            {"id": "word", "kind": "SHORT_TEXT", "prompt": "The knot of a sailor's reef?",
             "explanation": f"The reef knot. {EXPLAIN}", "accepted": ["reef knot"]},
            {"id": "order", "kind": "ORDERING", "prompt": "Order the steps",
             "explanation": f"Loop, pass, tighten. {EXPLAIN}",
             "options": [{"id": "loop", "text": "Make a loop"},
                         {"id": "pass", "text": "Pass the end"},
                         {"id": "tighten", "text": "Tighten"}]},
        ],
    }  # fmt: skip


@pytest.fixture
def quiz(live_engine: Engine, author: tuple[User, str], category_slug: str) -> dict[str, Any]:
    """`timed` (a 10-minute limit, an hour's cooldown) and `daily` (one attempt a day), both
    completed by their assessment only, with `after` needing `timed`."""
    assessed = {"ASSESSMENT": {"passingScore": 100}}
    return _published(
        live_engine,
        author[0],
        category_slug,
        "quiz",
        [
            {"key": "timed", "name": "Timed Knots", "completionPolicy": assessed,
             "questionBank": _bank(timeLimitSeconds=600, cooldownMinutes=60)},
            {"key": "daily", "name": "Daily Knots", "completionPolicy": assessed,
             "questionBank": _bank(attemptsPerDay=1)},
            {"key": "after", "name": "After", "dependencies": ["timed"]},
        ],
    )  # fmt: skip


def _answer_right(form: Any) -> None:
    form.get_by_role("radio", name="Bowline").check()
    form.get_by_role("checkbox", name="Clove").check()
    form.get_by_role("checkbox", name="Round turn").check()
    form.get_by_label("Your answer (a number)").fill("2")
    form.get_by_label("Your answer", exact=True).fill("  Reef   KNOT ")
    # Ordering items come shuffled: put them right with the buttons.
    texts = {"loop": "Make a loop", "pass": "Pass the end", "tighten": "Tighten"}
    for place, wanted in enumerate(texts):
        while (at := _order(form).index(wanted)) > place:
            form.get_by_role("button", name=f"Move “{texts[wanted]}” up").click()
            expect_order_index(form, wanted, at - 1)
    assert _order(form) == list(texts)


def _order(form: Any) -> list[str]:
    return [str(i) for i in form.locator(".ordering li").evaluate_all(
        "(items) => items.map((item) => item.dataset.option)"
    )]  # fmt: skip


def expect_order_index(form: Any, option: str, index: int) -> None:
    from playwright.sync_api import expect

    expect(form.locator(".ordering li").nth(index)).to_have_attribute("data-option", option)


def test_a_quiz_is_timed_submitted_once_explained_afterwards_and_refused_in_words(
    new_page: Any, live_engine: Engine, quiz: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    _, token = _learner(live_engine)
    page = new_page(token=token)
    submits: list[str] = []
    page.on("request", lambda r: submits.append(r.url) if r.url.endswith("/submit") else None)
    details = _enrol_and_open(page, quiz["slug"], quiz["timed"])
    section = details.get_by_role("region", name="Quiz")
    section.get_by_role("button", name="Start the quiz").click()
    form = section.locator("form.quiz-form")
    expect(form.locator(".question")).to_have_count(5)
    expect(form.get_by_role("timer")).to_have_text(re.compile(r"^Time left: (10:00|9:[0-5]\d)$"))
    # Nothing on the page (nor in its state) tells the answers before the submit.
    assert EXPLAIN not in page.content()
    # Ordering with the buttons: the last item moved up one place; then a wrong choice.
    before = _order(form)
    last = {"loop": "Make a loop", "pass": "Pass the end", "tighten": "Tighten"}[before[2]]
    form.get_by_role("button", name=f"Move “{last}” up").click()
    expect_order_index(form, before[2], 1)
    assert _order(form) == [before[0], before[2], before[1]]
    form.get_by_role("radio", name="Hitch").check()

    # Two clicks, one submit: the button is disabled at the first.
    submit = form.get_by_role("button", name="Submit answers")
    submit.evaluate("(button) => { button.click(); button.click(); }")
    expect(section.get_by_role("heading", name="Not passed yet")).to_be_visible()
    assert len(submits) == 1
    results = section.locator(".quiz-results")
    # Nothing else answered: only the ordering can be right (when the moves made it so).
    expect(results).to_contain_text(re.compile(r"Your score: (0|20)%"))
    expect(results.locator(".results li.wrong")).not_to_have_count(0)
    expect(results.locator(".explanation").first).to_contain_text(EXPLAIN)
    expect(page.locator(f'.node[data-id="{quiz["timed"]}"]')).not_to_have_attribute(
        "data-state", "COMPLETED"
    )

    # Inside the cooldown: refused, with when the next attempt is allowed.
    section.get_by_role("button", name="Try again").click()
    expect(section.locator(".quiz-message")).to_have_text(
        re.compile(r"^Take a break before trying again: your next attempt is allowed .+\.$")
    )

    # The day's limit, in words.
    section = _open(page, quiz["daily"]).get_by_role("region", name="Quiz")
    section.get_by_role("button", name="Start the quiz").click()
    section.get_by_role("button", name="Submit answers").click()
    expect(section.get_by_role("heading", name="Not passed yet")).to_be_visible()
    section.get_by_role("button", name="Try again").click()
    expect(section.locator(".quiz-message")).to_have_text(
        re.compile(
            r"^You have used all of today's attempts at this quiz\. "
            r"Your next attempt is allowed .+\.$"
        )
    )


def test_a_passed_quiz_completes_the_skill_on_the_map(
    new_page: Any, live_engine: Engine, quiz: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    _, token = _learner(live_engine)
    page = new_page(token=token)
    details = _enrol_and_open(page, quiz["slug"], quiz["timed"])
    section = details.get_by_role("region", name="Quiz")
    section.get_by_role("button", name="Start the quiz").click()
    form = section.locator("form.quiz-form")
    _answer_right(form)
    form.get_by_role("button", name="Submit answers").click()
    expect(page.locator(f'.node[data-id="{quiz["timed"]}"]')).to_have_attribute(
        "data-state", "COMPLETED"
    )
    expect(page.locator(f'.node[data-id="{quiz["after"]}"]')).to_have_attribute(
        "data-state", "AVAILABLE"
    )
    section = details.get_by_role("region", name="Quiz")
    expect(section.get_by_role("heading", name="Passed")).to_be_visible()
    expect(section.locator(".quiz-passed")).to_have_text(
        "Your score: 100%. The skill is completed."
    )
    expect(section.locator(".results li.right")).to_have_count(5)


def test_the_quiz_has_no_accessibility_violation_in_either_theme(
    new_page: Any, live_engine: Engine, quiz: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    _, token = _learner(live_engine)
    visits = {"count": 0}

    def visit(page: Any) -> None:
        details = _enrol_and_open(page, quiz["slug"], quiz["daily"])
        section = details.get_by_role("region", name="Quiz")
        if visits["count"] == 0:  # the questions in the light theme, the results in the dark
            section.get_by_role("button", name="Start the quiz").click()
            expect(section.locator(".question")).to_have_count(5)
        else:  # the attempt begun in the light theme is still open
            section.get_by_role("button", name="Continue your attempt").click()
            section.get_by_role("button", name="Submit answers").click()
            expect(section.locator(".quiz-results")).to_be_visible()
        visits["count"] += 1

    _both_themes(new_page, token, visit)


# --- projects and their review ---

RUBRIC = {
    "criteria": [
        {"id": "works", "name": "It works", "minimum": 1,
         "levels": [{"name": "Broken", "points": 0}, {"name": "Works", "points": 2}]},
        {"id": "clear", "name": "Clear code", "minimum": 0,
         "levels": [{"name": "Muddled", "points": 0}, {"name": "Clear", "points": 1}]},
    ]
}  # fmt: skip


@pytest.fixture
def project(live_engine: Engine, author: tuple[User, str], category_slug: str) -> dict[str, Any]:
    """`build` (a reviewed PROJECT, with RUBRIC) in a tree by `author`."""
    from skilltree.reviews import service
    from skilltree.reviews.schemas import Rubric

    found = _published(
        live_engine,
        author[0],
        category_slug,
        "project",
        [{"key": "build", "name": "Build a Rig", "completionPolicy": {"PROJECT": {}}}],
    )
    with committed(live_engine) as session:
        service.put_rubric(
            session, found["build"], Rubric.model_validate(RUBRIC), session.merge(author[0])
        )
    return found


def _claim_and_open(page: Any) -> Any:
    from playwright.sync_api import expect

    page.goto("/#/reviews")
    page.get_by_role("button", name="Claim the next submission").click()
    expect(page.locator(".review-message")).to_have_text("Claimed: review it below.")
    return page.locator(".review-form")


def test_a_project_is_submitted_reviewed_with_its_rubric_and_resubmitted(
    new_page: Any, live_engine: Engine, author: tuple[User, str], project: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    _, token = _learner(live_engine)
    learner = new_page(token=token)
    details = _enrol_and_open(learner, project["slug"], project["build"])
    section = details.get_by_role("region", name="Project")
    expect(section.locator(".rubric-summary li")).to_have_count(2)
    section.get_by_role("button", name="Submit for review").click()
    expect(section.locator(".form-error")).to_contain_text("give a text, links, or both")
    section.get_by_label("Your work (what you did, how to see it)").fill("My rig, first try.")
    section.get_by_label("Links, one a line").fill("https://example.org/rig\njavascript:alert(1)")
    section.get_by_role("button", name="Submit for review").click()
    expect(section.locator(".form-error")).to_contain_text("not an http(s) URL")
    section.get_by_label("Links, one a line").fill("https://example.org/rig")
    section.get_by_role("button", name="Submit for review").click()
    expect(section.locator(".submission-status")).to_have_text("Waiting for a review")
    expect(section.locator("form")).to_have_count(0)

    # The author reviews: the queue lists it; claimed, it is scored by the rubric.
    reviewer = new_page(token=author[1])
    reviewer.goto("/#/")
    reviewer.get_by_role("link", name="Reviews").click()
    expect(reviewer.locator(".review-table tbody tr")).not_to_have_count(0)
    form = _claim_and_open(reviewer)
    expect(form.get_by_role("heading", name="Review: Build a Rig")).to_be_visible()
    expect(form.locator(".submission-text")).to_have_text("My rig, first try.")
    expect(form.get_by_role("link", name="https://example.org/rig")).to_have_count(1)
    form.get_by_role("button", name="Ask for changes").click()
    expect(form.locator(".form-error")).to_have_text(
        "Write what should change: the learner reads it."
    )
    form.get_by_role("group", name=re.compile("It works")).get_by_role(
        "radio", name="Broken (0)"
    ).check()
    form.get_by_label("Feedback for the learner").fill("The loop slips: tie a stopper knot.")
    form.get_by_role("button", name="Ask for changes").click()
    expect(reviewer.locator(".review-message")).to_have_text(
        "Changes asked for “Build a Rig”: the learner can send it again."
    )

    # The learner sees the feedback and its scores, and sends it again.
    learner.reload()
    section = _open(learner, project["build"]).get_by_role("region", name="Project")
    expect(section.locator(".submission-status")).to_have_text("Changes asked")
    expect(section.locator(".feedback")).to_have_text("The loop slips: tie a stopper knot.")
    expect(section.locator(".rubric-summary")).to_contain_text("It works: Broken (0 of 2)")
    work = section.get_by_label("Your work (what you did, how to see it)")
    expect(work).to_have_value("My rig, first try.")
    work.fill("My rig, with a stopper knot.")
    section.get_by_role("button", name="Submit again").click()
    expect(section.locator(".submission-status")).to_have_text("Waiting for a review")
    expect(section).to_contain_text("round 2")

    # Approved with its scores: the skill is completed.
    form = _claim_and_open(reviewer)
    form.get_by_role("group", name=re.compile("It works")).get_by_role(
        "radio", name="Works (2)"
    ).check()
    form.get_by_role("group", name=re.compile("Clear code")).get_by_role(
        "radio", name="Clear (1)"
    ).check()
    form.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".review-message")).to_have_text(
        "Approved “Build a Rig”: the skill is completed for its learner."
    )
    learner.reload()
    expect(learner.locator(f'.node[data-id="{project["build"]}"]')).to_have_attribute(
        "data-state", "COMPLETED"
    )
    section = _open(learner, project["build"]).get_by_role("region", name="Project")
    expect(section.locator(".submission-status")).to_have_text("Approved")
    expect(section.locator("form")).to_have_count(0)


def test_mentors_see_the_queue_and_learners_do_not(
    new_page: Any, live_engine: Engine, author: tuple[User, str], project: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    from skilltree.reviews import service

    mentor, mentor_token = _learner(live_engine, "mentor")
    _, learner_token = _learner(live_engine)
    with committed(live_engine) as session:
        service.add_mentor(session, project["slug"], mentor.username, session.merge(author[0]))
    page = new_page(token=mentor_token)
    page.goto("/#/")
    page.get_by_role("link", name="Reviews").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page = new_page(token=learner_token)
    page.goto("/#/")
    expect(page.get_by_role("link", name="Catalog")).to_be_visible()
    expect(page.get_by_role("link", name="Reviews")).to_have_count(0)
    page.goto("/#/reviews")
    expect(page.locator(".review-list")).to_have_text(
        "You review no trees: a tree's author, its mentors and admins review its projects."
    )


def test_the_project_and_queue_views_have_no_accessibility_violation_in_either_theme(
    new_page: Any, live_engine: Engine, author: tuple[User, str], project: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    _, token = _learner(live_engine)

    def submitted(page: Any) -> None:
        details = _enrol_and_open(page, project["slug"], project["build"])
        section = details.get_by_role("region", name="Project")
        expect(section.get_by_role("button", name=re.compile("Submit"))).to_be_visible()

    _both_themes(new_page, token, submitted)
    first = new_page(token=token)
    section = _enrol_and_open(first, project["slug"], project["build"]).get_by_role(
        "region", name="Project"
    )
    section.get_by_label("Your work (what you did, how to see it)").fill("Done.")
    section.get_by_role("button", name="Submit for review").click()
    expect(section.locator(".submission-status")).to_have_text("Waiting for a review")

    claimed = {"done": False}

    def queue(page: Any) -> None:
        if not claimed["done"]:
            _claim_and_open(page)
            claimed["done"] = True
        else:
            page.goto("/#/reviews")
        expect(page.locator(".review-form")).to_have_count(1)

    _both_themes(new_page, author[1], queue)
