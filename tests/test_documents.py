"""Every JSON column's document: what it accepts, how it is normalised, where an error points."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from skilltree.documents import (
    MAX_BAG_BYTES,
    MAX_DOCUMENT_BYTES,
    AchievementCriteria,
    DeviceInfo,
    LayoutConfig,
    Preferences,
    ProgressEvidence,
    SkillAssessments,
    SkillContent,
    SkillResources,
    StrugglingIndicators,
    ThemeConfig,
    validate_document,
)
from skilltree.errors import InvalidInput

# The spec's seed documents, verbatim.
SEED_HTML_CONTENT = {
    "type": "structured",
    "modules": [
        {
            "title": "HTML Basics",
            "type": "article",
            "estimatedMinutes": 60,
            "resources": [
                {
                    "type": "link",
                    "title": "MDN HTML Basics",
                    "url": "https://developer.mozilla.org/en-US/docs/Learn/Getting_started_with_the_web/HTML_basics",
                }
            ],
        }
    ],
}
SEED_CSS_CONTENT = {
    "type": "structured",
    "modules": [
        {
            "title": "CSS Fundamentals",
            "type": "interactive",
            "estimatedMinutes": 90,
            "resources": [],
        }
    ],
}
SEED_LAYOUT = {"theme": "modern", "nodeSpacing": 150, "levelHeight": 200}
SEED_CRITERIA = {"type": "skill_completion_count", "threshold": 1}


def error_of(model: type[BaseModel], data: Any, at: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """The single error `validate_document` reports for `data`."""
    with pytest.raises(InvalidInput) as caught:
        validate_document(model, data, at=at)
    assert len(caught.value.errors) == 1, caught.value.errors
    return caught.value.errors[0].as_dict()


@pytest.mark.parametrize(
    ("model", "document"),
    [
        (SkillContent, SEED_HTML_CONTENT),
        (SkillContent, SEED_CSS_CONTENT),
        (LayoutConfig, SEED_LAYOUT),
        (AchievementCriteria, SEED_CRITERIA),
    ],
)
def test_the_spec_seed_documents_validate_unchanged(
    model: type[BaseModel], document: dict[str, Any]
) -> None:
    assert validate_document(model, document) == document


# --- skills.content ---


def test_simple_content_needs_no_modules() -> None:
    assert validate_document(SkillContent, {"type": "simple"}) == {"type": "simple"}


def test_a_bad_resource_url_is_reported_at_its_full_path() -> None:
    content = {
        "type": "structured",
        "modules": [
            {
                "title": "HTML Basics",
                "type": "article",
                "estimatedMinutes": 60,
                "resources": [
                    {"type": "link", "title": "ok", "url": "https://example.com/a"},
                    {"type": "link", "title": "bad", "url": "not a url"},
                ],
            }
        ],
    }
    error = error_of(SkillContent, content, at=("content",))
    assert error["loc"] == ["content", "modules", 0, "resources", 1, "url"]
    assert error["type"] == "url_parsing"


def test_a_script_url_is_refused() -> None:
    content = {
        "type": "structured",
        "modules": [
            {
                "title": "m",
                "type": "video",
                "estimatedMinutes": 1,
                "resources": [{"type": "embed", "title": "x", "url": "javascript:alert(1)"}],
            }
        ],
    }
    assert error_of(SkillContent, content)["loc"] == ["modules", 0, "resources", 0, "url"]


def test_urls_are_kept_as_written() -> None:
    content = {
        "type": "structured",
        "modules": [
            {
                "title": "m",
                "type": "article",
                "estimatedMinutes": 1.5,
                "resources": [{"type": "link", "title": "x", "url": "https://example.com"}],
            }
        ],
    }
    assert validate_document(SkillContent, content) == content


@pytest.mark.parametrize(
    ("module_change", "field", "error_type"),
    [
        ({"estimatedMinutes": -1}, "estimatedMinutes", "greater_than_equal"),
        ({"estimatedMinutes": "60"}, "estimatedMinutes", "float_type"),
        ({"estimatedMinutes": True}, "estimatedMinutes", "float_type"),
        ({"type": "podcast"}, "type", "literal_error"),
        ({"title": ""}, "title", "string_too_short"),
        ({"title": "x" * 201}, "title", "string_too_long"),
        ({"estimatedMinuts": 5}, "estimatedMinuts", "extra_forbidden"),
    ],
)
def test_module_fields_are_checked(
    module_change: dict[str, Any], field: str, error_type: str
) -> None:
    module = {"title": "m", "type": "article", "estimatedMinutes": 5, "resources": []}
    content = {"type": "structured", "modules": [{**module, **module_change}]}
    error = error_of(SkillContent, content)
    assert error["loc"] == ["modules", 0, field]
    assert error["type"] == error_type


def test_content_type_is_one_of_the_spec_values() -> None:
    assert error_of(SkillContent, {"type": "rich"})["loc"] == ["type"]


def test_a_document_that_is_not_an_object_is_refused_at_its_root() -> None:
    assert error_of(SkillContent, "hello", at=("content",))["loc"] == ["content"]


# --- skills.resources ---


def test_resources_accept_books_and_videos_with_descriptions() -> None:
    resources = [
        {"type": "book", "title": "HTML & CSS", "url": "https://example.com/book"},
        {
            "type": "video",
            "title": "Intro",
            "url": "https://example.com/v",
            "description": "Ten minutes.",
        },
    ]
    assert validate_document(SkillResources, resources) == resources


def test_a_resource_without_url_is_reported_by_index() -> None:
    error = error_of(SkillResources, [{"type": "book", "title": "b"}], at=("resources",))
    assert error == {"loc": ["resources", 0, "url"], "msg": "Field required", "type": "missing"}


def test_resources_are_a_list() -> None:
    assert error_of(SkillResources, {"type": "book"})["type"] == "list_type"


# --- skills.assessments ---


def test_assessments_with_questions_validate() -> None:
    assessments = [
        {
            "id": "html-quiz",
            "type": "quiz",
            "title": "HTML quiz",
            "passingScore": 80,
            "questions": [
                {"prompt": "Which tag is a heading?", "options": ["<h1>", "<p>"], "answer": "<h1>"},
                {"prompt": "Explain semantic markup."},
            ],
        },
        {"type": "project", "title": "Build a page", "passingScore": 50.5},
    ]
    assert validate_document(SkillAssessments, assessments) == assessments


def test_an_answer_must_be_one_of_the_options() -> None:
    question = {"prompt": "?", "options": ["a", "b"], "answer": "c"}
    assessment = {"type": "quiz", "title": "q", "passingScore": 1, "questions": [question]}
    error = error_of(SkillAssessments, [assessment], at=("assessments",))
    assert error["loc"] == ["assessments", 0, "questions", 0, "answer"]


def test_passing_score_is_a_percentage() -> None:
    error = error_of(SkillAssessments, [{"type": "exam", "title": "e", "passingScore": 101}])
    assert error["loc"] == [0, "passingScore"]
    assert error["type"] == "less_than_equal"


def test_assessment_ids_are_unique() -> None:
    assessment = {"id": "a", "type": "quiz", "title": "q", "passingScore": 1}
    error = error_of(SkillAssessments, [assessment, assessment], at=("assessments",))
    assert error["loc"] == ["assessments"]


# --- skill_trees.layout_config / theme_config ---


def test_an_empty_layout_is_the_default() -> None:
    assert validate_document(LayoutConfig, {}) == {}


@pytest.mark.parametrize(
    ("layout", "field"),
    [
        ({"nodeSpacing": 0}, "nodeSpacing"),
        ({"levelHeight": -5}, "levelHeight"),
        ({"direction": "diagonal"}, "direction"),
        ({"nodeSpaceing": 150}, "nodeSpaceing"),
    ],
)
def test_layout_fields_are_checked(layout: dict[str, Any], field: str) -> None:
    assert error_of(LayoutConfig, layout, at=("layoutConfig",))["loc"] == ["layoutConfig", field]


def test_theme_colours_are_hex() -> None:
    theme = {"primaryColor": "#3B82F6", "backgroundColor": "#ffffff", "fontFamily": "Inter"}
    assert validate_document(ThemeConfig, theme) == theme
    error = error_of(ThemeConfig, {"textColor": "blue"}, at=("themeConfig",))
    assert error["loc"] == ["themeConfig", "textColor"]
    assert error["type"] == "string_pattern_mismatch"


# --- achievements.criteria ---


@pytest.mark.parametrize(
    "criterion",
    ["xp_threshold", "streak_days", "trees_completed", "milestones_reached"],
)
def test_every_criterion_type_validates(criterion: str) -> None:
    criteria = {"type": criterion, "threshold": 7, "additionalParams": {"note": "x"}}
    assert validate_document(AchievementCriteria, criteria) == criteria


def test_skills_in_category_names_a_category_slug() -> None:
    criteria = {
        "type": "skills_in_category",
        "threshold": 3,
        "additionalParams": {"category": "web-development"},
    }
    assert validate_document(AchievementCriteria, criteria) == criteria


def test_skills_in_category_without_a_category_is_refused() -> None:
    error = error_of(AchievementCriteria, {"type": "skills_in_category", "threshold": 3})
    assert error["loc"] == ["additionalParams", "category"]
    assert error["type"] == "missing"


def test_skills_in_category_with_a_bad_slug_is_refused() -> None:
    criteria = {
        "type": "skills_in_category",
        "threshold": 3,
        "additionalParams": {"category": "Web Development"},
    }
    error = error_of(AchievementCriteria, criteria, at=("criteria",))
    assert error["loc"] == ["criteria", "additionalParams", "category"]


def test_threshold_is_a_non_negative_number() -> None:
    error = error_of(AchievementCriteria, {"type": "xp_threshold", "threshold": -1})
    assert error["loc"] == ["threshold"]


def test_criterion_type_is_one_of_the_known_measures() -> None:
    error = error_of(AchievementCriteria, {"type": "likes", "threshold": 1})
    assert error["loc"] == ["type"]
    assert error["type"] == "literal_error"


def test_additional_params_are_bounded() -> None:
    params = {"blob": "x" * MAX_BAG_BYTES}
    error = error_of(
        AchievementCriteria, {"type": "xp_threshold", "threshold": 1, "additionalParams": params}
    )
    assert error["loc"] == ["additionalParams"]


# --- user_skill_progress.evidence_data / struggling_indicators ---


def test_evidence_validates_with_metadata() -> None:
    evidence = {"type": "assessment_score", "content": "92", "metadata": {"quiz": "html-quiz"}}
    assert validate_document(ProgressEvidence, evidence) == evidence


def test_url_evidence_must_be_a_url() -> None:
    assert validate_document(ProgressEvidence, {"type": "url", "content": "https://github.com/x"})
    error = error_of(ProgressEvidence, {"type": "url", "content": "my repo"}, at=("evidence",))
    assert error["loc"] == ["evidence", "content"]


def test_evidence_content_is_required() -> None:
    assert error_of(ProgressEvidence, {"type": "text"})["loc"] == ["content"]


def test_metadata_holds_only_json_values() -> None:
    error = error_of(ProgressEvidence, {"type": "text", "content": "x", "metadata": {"n": {1, 2}}})
    assert error["loc"] == ["metadata"]


def test_struggling_indicators_default_to_no_flags() -> None:
    assert validate_document(StrugglingIndicators, {}) == {"flags": []}
    indicators = {"attemptsOverEstimate": 2, "timeRatio": 1.8, "flags": ["slow-progress"]}
    assert validate_document(StrugglingIndicators, indicators) == indicators


def test_struggling_flags_are_checked_by_index() -> None:
    error = error_of(StrugglingIndicators, {"flags": ["ok", ""]})
    assert error["loc"] == ["flags", 1]


# --- user_profiles.preferences / user_sessions.device_info ---


def test_preferences_validate() -> None:
    preferences = {"emailNotifications": False, "dailyGoalMinutes": 30, "theme": "dark"}
    assert validate_document(Preferences, preferences) == preferences


@pytest.mark.parametrize(
    ("preferences", "field"),
    [
        ({"emailNotifications": "yes"}, "emailNotifications"),
        ({"dailyGoalMinutes": -1}, "dailyGoalMinutes"),
        ({"theme": "blue"}, "theme"),
        ({"emailNotification": True}, "emailNotification"),
    ],
)
def test_preference_fields_are_checked(preferences: dict[str, Any], field: str) -> None:
    assert error_of(Preferences, preferences, at=("preferences",))["loc"] == ["preferences", field]


def test_device_info_validates() -> None:
    device = {"userAgent": "Mozilla/5.0", "browser": "Firefox", "os": "Linux"}
    assert validate_document(DeviceInfo, {**device, "device": None}) == device
    assert validate_document(DeviceInfo, {**device, "device": "Mac"}) == {**device, "device": "Mac"}
    assert error_of(DeviceInfo, {"device": ""})["loc"] == ["device"]


# --- rules for every document ---


def test_nul_characters_are_refused_where_they_are() -> None:
    error = error_of(ProgressEvidence, {"type": "text", "content": "a\x00b"}, at=("evidence",))
    assert error == {
        "loc": ["evidence", "content"],
        "msg": "must not contain NUL characters",
        "type": "string_nul",
    }


def test_a_document_larger_than_the_limit_is_refused() -> None:
    module = {"title": "m", "type": "article", "estimatedMinutes": 1, "resources": []}
    resource = {"type": "link", "title": "t" * 200, "url": "https://example.com/" + "a" * 2000}
    big = {"type": "structured", "modules": [{**module, "resources": [resource] * 50}] * 3}
    error = error_of(SkillContent, big, at=("content",))
    assert error["loc"] == ["content"]
    assert error["type"] == "too_large"
    assert str(MAX_DOCUMENT_BYTES) in error["msg"]


def test_every_error_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_document(LayoutConfig, {"nodeSpacing": 0, "direction": "up"})
    assert sorted(e.loc for e in caught.value.errors) == [("direction",), ("nodeSpacing",)]
