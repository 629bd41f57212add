"""The shapes of every JSON column (the spec's Zod schemas, and ours for the columns it left open).

Services pass each JSON value through `validate_document` before writing it, so what PostgreSQL
stores is always one of these shapes, normalised.

Choices that hold for every model here:
- Fields are named exactly as the document's JSON keys (the spec's camelCase), so a model reads as
  the document it checks.
- Unknown keys are refused (`extra="forbid"`): a misspelt key (`estimatedMinuts`) would otherwise be
  dropped or kept unread, and the author would lose what they meant to say. Free-form data has
  explicit homes instead: `additionalParams` and `metadata`, bounded in keys and bytes.
- Types are strict, like Zod: `"60"` is not a number and `1` is not `true`.
- Every string, list and free-form bag is bounded, and a whole document may not exceed
  `MAX_DOCUMENT_BYTES`, so a JSON column cannot be used to store megabytes.
- URLs must be absolute http(s) URLs (Zod's `url()` would also take `javascript:`); they are stored
  as written, not re-serialised.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PlainSerializer,
    RootModel,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from skilltree.errors import FieldError, InvalidInput
from skilltree.models.catalog import HEX_COLOUR_PATTERN, SLUG_PATTERN
from skilltree.models.enums import CompletionMethod
from skilltree.storable import unstorable

MAX_DOCUMENT_BYTES = 256 * 1024
"""The largest JSON document (serialised, UTF-8) any column accepts."""
MAX_BAG_BYTES = 8 * 1024
"""The largest free-form bag (`additionalParams`, `metadata`)."""

JsonDocument = dict[str, Any] | list[Any]
_INVALID = "The document is not valid; see `errors` for each field."

_http_url = TypeAdapter(HttpUrl)


def _check_http_url(value: str) -> str:
    _http_url.validate_python(value)  # its ValidationError is reported at this field's path
    return value


def _check_bag(value: dict[str, Any]) -> dict[str, Any]:
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise ValueError("must hold only JSON values (no NaN or Infinity)") from None
    if len(encoded.encode()) > MAX_BAG_BYTES:
        raise ValueError(f"must be at most {MAX_BAG_BYTES} bytes as JSON")
    return value


def _json_number(value: float) -> int | float:
    # Whole numbers go back out as integers: the seed's `"estimatedMinutes": 60` stays 60, not 60.0.
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


Text = Annotated[str, StringConstraints(max_length=10_000)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2_000)]
MAX_NAME_CHARS = 100
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_CHARS)]
Slug = Annotated[str, StringConstraints(max_length=100, pattern=SLUG_PATTERN)]
HexColour = Annotated[str, StringConstraints(pattern=HEX_COLOUR_PATTERN)]
WebUrl = Annotated[str, StringConstraints(max_length=2_048), AfterValidator(_check_http_url)]
Number = Annotated[float, Field(allow_inf_nan=False), PlainSerializer(_json_number)]
"""A JSON number: int or float in, no strings or booleans, no NaN or Infinity."""
Bag = Annotated[dict[str, Any], Field(max_length=50), AfterValidator(_check_bag)]
"""A free-form JSON object: at most 50 keys and `MAX_BAG_BYTES`."""


class Document(BaseModel):
    """Base of the JSON-column models: strict, closed to unknown keys, bounded strings."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=10_000, frozen=True)


# --- skills.content (the spec's SkillContentSchema) ---


class ContentResource(Document):
    """A link, file or embed used by one module of a skill's content."""

    type: Literal["link", "file", "embed"]
    title: Title
    url: WebUrl


MODULE_BODY_MAX = 50_000
"""The longest Markdown text a module may carry."""

MODULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""A module's own id (not in the spec): a key-like name, and not all digits, since a module
without an id is named by its position, 1, 2, ... (learners' time on it is kept by that name)."""


def _not_a_position(module_id: str) -> str:
    if module_id.isdigit():
        raise ValueError("must not be all digits: modules without an id are named 1, 2, ...")
    return module_id


ModuleId = Annotated[
    str,
    StringConstraints(max_length=100, pattern=MODULE_ID_PATTERN),
    AfterValidator(_not_a_position),
]


class ContentModule(Document):
    """One module of a skill's structured content. Learners' time on it is kept under its `id`,
    or without one under its position (1, 2, ...): give modules ids to reorder them freely."""

    id: ModuleId | None = None
    title: Title
    type: Literal["article", "video", "interactive", "assessment"]
    estimatedMinutes: Annotated[Number, Field(ge=0, le=100_000)]
    resources: Annotated[list[ContentResource], Field(max_length=50)]
    body: Annotated[str, StringConstraints(max_length=MODULE_BODY_MAX)] | None = None
    """The module's own text in Markdown (not in the spec), shown by the web app with raw HTML
    and non-http(s) links left out (docs/web.md)."""


class SkillContent(Document):
    """`skills.content`: how a skill is taught, optionally as a list of modules."""

    type: Literal["structured", "simple"]
    modules: Annotated[list[ContentModule], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _module_ids_unique(self) -> SkillContent:
        ids = [m.id for m in self.modules or () if m.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("module ids must be unique")
        return self

    def module_ids(self) -> list[str]:
        """Each module's name for learners' progress: its `id`, else its position (1, 2, ...)."""
        return [m.id or str(n) for n, m in enumerate(self.modules or (), start=1)]


# --- skills.resources ---


class SkillResource(Document):
    """One external resource for a skill: a link, file, embed, video or book."""

    type: Literal["link", "file", "embed", "video", "book"]
    title: Title
    url: WebUrl
    description: Description | None = None


class SkillResources(RootModel[Annotated[list[SkillResource], Field(max_length=100)]]):
    """`skills.resources`: a list of external resources."""


# --- skills.assessments ---


class AssessmentQuestion(Document):
    """A question; with `options`, the `answer` is the text of one of them."""

    prompt: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    options: Annotated[list[Description], Field(min_length=2, max_length=20)] | None = None
    answer: Description | None = None

    @field_validator("answer")
    @classmethod
    def _answer_is_an_option(cls, answer: str | None, info: ValidationInfo) -> str | None:
        options = info.data.get("options")
        if answer is not None and options is not None and answer not in options:
            raise ValueError("must be one of the options")
        return answer


class Assessment(Document):
    """A quiz, project or exam that checks a skill, passed at `passingScore` percent."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    type: Literal["quiz", "project", "exam"]
    title: Title
    passingScore: Annotated[Number, Field(ge=0, le=100)]
    questions: Annotated[list[AssessmentQuestion], Field(max_length=100)] | None = None


class SkillAssessments(RootModel[Annotated[list[Assessment], Field(max_length=20)]]):
    """`skills.assessments`: the assessments of a skill; their ids, when given, are unique."""

    @model_validator(mode="after")
    def _ids_unique(self) -> SkillAssessments:
        ids = [a.id for a in self.root if a.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("assessment ids must be unique")
        return self


# --- skills.completion_policy (not in the spec; docs/spec-deviations.md) ---

MAX_POLICY_MINUTES = 100_000
"""The most minutes a TIME_BASED policy may ask for (the database's check says the same)."""


class PolicyPart(Document):
    """Part of a completion policy: written without its absent (None) members, so a policy is
    stored and answered as `{"MANUAL": {}}`, never with nulls for what it leaves out."""

    @model_serializer(mode="wrap")
    def _without_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class NoParameters(PolicyPart):
    """A method without parameters (MANUAL, PROJECT and EXTERNAL, for now)."""


class AssessmentParameters(PolicyPart):
    """ASSESSMENT: a score that passes the assessment's own `passingScore` and, when given, this
    one (which may only raise the mark)."""

    passingScore: Annotated[Number, Field(ge=0, le=100)] | None = None


class TimeBasedParameters(PolicyPart):
    """TIME_BASED: at least `minutes` of time logged on the skill (activity and the completion's
    own `minutesSpent`)."""

    minutes: Annotated[int, Field(ge=1, le=MAX_POLICY_MINUTES)]


class CompletionPolicy(PolicyPart):
    """`skills.completion_policy`: the methods that may complete the skill, each with its
    parameters; at least one (a method given as null is left out)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [m.value], "properties": {m.value: {"not": {"type": "null"}}}}
                for m in CompletionMethod
            ]
        }
    )

    MANUAL: NoParameters | None = None
    ASSESSMENT: AssessmentParameters | None = None
    PROJECT: NoParameters | None = None
    TIME_BASED: TimeBasedParameters | None = None
    EXTERNAL: NoParameters | None = None

    @model_validator(mode="after")
    def _some_method(self) -> CompletionPolicy:
        if not self.allowed_methods():
            raise ValueError("must allow at least one method: " + ", ".join(CompletionMethod))
        return self

    def allowed_methods(self) -> list[CompletionMethod]:
        """The methods the policy allows, in the enum's order."""
        return [method for method in CompletionMethod if getattr(self, method.value) is not None]


def default_completion_policy(assessments: object) -> dict[str, Any]:
    """The policy of a skill written without one: ASSESSMENT when it has assessments (a passing
    score is then the only way through), else MANUAL, the spec's self-report. The database gives
    the same default to any writer (the trigger `skills_completion_policy_default`, live in
    db/schema/catalog.sql); tests hold both to agree."""
    return {"ASSESSMENT": {}} if isinstance(assessments, list) and assessments else {"MANUAL": {}}


# --- skill_trees.layout_config / theme_config ---


class LayoutConfig(Document):
    """`skill_trees.layout_config`: how the tree's graph is laid out."""

    theme: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    nodeSpacing: Annotated[Number, Field(gt=0, le=10_000)] | None = None
    levelHeight: Annotated[Number, Field(gt=0, le=10_000)] | None = None
    direction: Literal["vertical", "horizontal"] | None = None


class ThemeConfig(Document):
    """`skill_trees.theme_config`: the tree's colours (#RRGGBB) and font."""

    primaryColor: HexColour | None = None
    secondaryColor: HexColour | None = None
    accentColor: HexColour | None = None
    backgroundColor: HexColour | None = None
    textColor: HexColour | None = None
    lockedColor: HexColour | None = None
    completedColor: HexColour | None = None
    fontFamily: Name | None = None


# --- gamification: achievements.criteria (the spec's AchievementCriteriaSchema) ---


class _CategoryParams(BaseModel):
    """`additionalParams` of a skills_in_category criterion: a category slug, plus anything."""

    model_config = ConfigDict(extra="allow", strict=True)

    category: Slug


class AchievementCriteria(Document):
    """`achievements.criteria`: when an achievement is earned (a measure reaching `threshold`)."""

    type: Literal[
        "skill_completion_count",
        "xp_threshold",
        "streak_days",
        "trees_completed",
        "milestones_reached",
        "skills_in_category",
        "hours_learned",
    ]
    threshold: Annotated[Number, Field(ge=0, le=1_000_000_000)]
    additionalParams: Annotated[Bag | None, Field(validate_default=True)] = None

    @field_validator("additionalParams")
    @classmethod
    def _category_named(
        cls, params: dict[str, Any] | None, info: ValidationInfo
    ) -> dict[str, Any] | None:
        if info.data.get("type") == "skills_in_category":
            _CategoryParams.model_validate(params or {})  # errors land under additionalParams
        return params


# --- progress: user_skill_progress.evidence_data / struggling_indicators ---


class ProgressEvidence(Document):
    """`user_skill_progress.evidence_data`: proof of completion; a `url` must be an http(s) URL."""

    type: Literal["text", "url", "file", "assessment_score"]
    content: Text
    metadata: Bag | None = None

    @field_validator("content")
    @classmethod
    def _url_is_a_url(cls, content: str, info: ValidationInfo) -> str:
        if info.data.get("type") == "url":
            _check_http_url(content)
        return content


class StrugglingIndicators(Document):
    """`user_skill_progress.struggling_indicators`: signals that a learner is stuck."""

    attemptsOverEstimate: Annotated[Number, Field(ge=0, le=1_000_000)] | None = None
    timeRatio: Annotated[Number, Field(ge=0, le=1_000_000)] | None = None
    flags: Annotated[list[Name], Field(max_length=20)] = []


# --- accounts: user_profiles.preferences, user_sessions.device_info ---


class Preferences(Document):
    """`user_profiles.preferences`: a learner's settings."""

    emailNotifications: bool | None = None
    dailyGoalMinutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = None
    theme: Literal["light", "dark", "system"] | None = None
    language: Annotated[str, StringConstraints(min_length=2, max_length=35)] | None = None


class DeviceInfo(Document):
    """`user_sessions.device_info`: what the session was started from (from its User-Agent, by
    ua-parser: `accounts.service.device_info`)."""

    userAgent: Annotated[str, StringConstraints(max_length=512)] | None = None
    browser: Name | None = None
    os: Name | None = None
    device: Name | None = None


def validate_document(
    model: type[BaseModel], data: object, *, at: tuple[str | int, ...] = ()
) -> JsonDocument:
    """`data` checked against `model` and normalised for a JSON column, or InvalidInput.

    `at` is where the document sits in the caller's input (e.g. `("content",)`); each error's
    location starts with it.
    """
    unstorable_parts = unstorable(data, at)  # first: they would break validation's serialiser
    if unstorable_parts:
        raise InvalidInput(_INVALID, errors=unstorable_parts)
    try:
        document: JsonDocument = model.model_validate(data).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    except ValidationError as exc:
        raise InvalidInput(
            _INVALID,
            errors=[
                FieldError(loc=at + tuple(e["loc"]), msg=e["msg"], type=e["type"])
                for e in exc.errors(include_url=False)
            ],
        ) from None
    if len(json.dumps(document).encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(
            _INVALID,
            errors=[
                FieldError(
                    loc=at,
                    msg=f"must be at most {MAX_DOCUMENT_BYTES} bytes as JSON",
                    type="too_large",
                )
            ],
        )
    return document
