"""Question banks as authors write them, and attempts as learners see them.

A bank is stored in two parts (`split`): what learners may see (settings, and each question's
id, kind, prompt, points and options) and its answer keys with explanations, which the API's
role cannot read (docs/security.md); `QuestionBank.from_parts` puts them together again for its
author. Each kind's key is what `assessment_answer_correct` (db/schema/assessments.sql) grades by.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from skilltree.mastery.schemas import ReviewOutcome
from skilltree.schemas import CamelModel, Page

QuestionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Prompt = Annotated[str, Field(min_length=1, max_length=5000)]
Explanation = Annotated[str, Field(max_length=5000)]
Points = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]
MAX_QUESTIONS = 500


def normal_text(written: str) -> str:
    """A short answer as it is compared: NFKC, case-folded, runs of white space as one space,
    none at the ends ("  STRAẞE\u00a0 1 " and "strasse 1" are the same answer)."""
    return " ".join(unicodedata.normalize("NFKC", written).casefold().split())


class Option(CamelModel):
    """One option of a choice question, or one item of an ordering question."""

    id: QuestionId
    text: Annotated[str, Field(min_length=1, max_length=1000)]


class _Question(CamelModel):
    id: QuestionId
    prompt: Prompt
    points: Points = 1
    explanation: Explanation = ""


class _WithOptions(_Question):
    options: Annotated[list[Option], Field(min_length=2, max_length=50)]

    @field_validator("options")
    @classmethod
    def _distinct_ids(cls, options: list[Option]) -> list[Option]:
        if len({o.id for o in options}) != len(options):
            raise ValueError("option ids must be distinct")
        return options


class SingleChoice(_WithOptions):
    """One option is right."""

    kind: Literal["SINGLE_CHOICE"]
    correct: QuestionId

    @model_validator(mode="after")
    def _correct_is_an_option(self) -> SingleChoice:
        if self.correct not in {o.id for o in self.options}:
            raise ValueError("correct must be the id of one of the options")
        return self


class MultipleChoice(_WithOptions):
    """Exactly the right options, all of them (all or nothing)."""

    kind: Literal["MULTIPLE_CHOICE"]
    correct: Annotated[list[QuestionId], Field(min_length=1, max_length=50)]

    @model_validator(mode="after")
    def _correct_are_options(self) -> MultipleChoice:
        if not set(self.correct) <= {o.id for o in self.options}:
            raise ValueError("correct must list ids of the options")
        if len(set(self.correct)) != len(self.correct):
            raise ValueError("correct must list each option once")
        return self


class NumericQuestion(_Question):
    """A number within `tolerance` of `answer` (either side)."""

    kind: Literal["NUMERIC"]
    answer: Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
    tolerance: Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)] = 0


class ShortText(_Question):
    """A short written answer: one of `accepted` after normalisation (`normal_text`), or one
    matching `pattern` (a PostgreSQL regular expression matched against the whole normalised
    answer)."""

    kind: Literal["SHORT_TEXT"]
    accepted: Annotated[
        list[Annotated[str, Field(max_length=500)]], Field(max_length=50, default_factory=list)
    ]
    pattern: Annotated[str, Field(min_length=1, max_length=500)] | None = None

    @field_validator("accepted")
    @classmethod
    def _normalised(cls, accepted: list[str]) -> list[str]:
        answers = [normal_text(a) for a in accepted]
        if "" in answers:
            raise ValueError("an accepted answer cannot be empty")
        return list(dict.fromkeys(answers))

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from None
        return pattern

    @model_validator(mode="after")
    def _answerable(self) -> ShortText:
        if not self.accepted and self.pattern is None:
            raise ValueError("give accepted answers, a pattern, or both")
        return self


class Ordering(_WithOptions):
    """The items put in order: `options` lists them in the right order (shown shuffled)."""

    kind: Literal["ORDERING"]


Question = Annotated[
    SingleChoice | MultipleChoice | NumericQuestion | ShortText | Ordering,
    Field(discriminator="kind"),
]


class BankSettings(CamelModel):
    """How attempts at a bank go. Left out: every question, no shuffling, no time limit, any
    score passes, no daily limit, no cooldown."""

    questions_per_attempt: Annotated[int, Field(ge=1, le=MAX_QUESTIONS)] | None = None
    shuffle_options: bool = False
    time_limit_seconds: Annotated[int, Field(ge=10, le=7 * 24 * 3600)] | None = None
    passing_score: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0
    attempts_per_day: Annotated[int, Field(ge=1, le=1000)] | None = None
    cooldown_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 0


class QuestionBank(CamelModel):
    """A skill's question bank, with its answer keys and explanations (its author's view)."""

    settings: BankSettings = BankSettings()
    questions: Annotated[list[Question], Field(min_length=1, max_length=MAX_QUESTIONS)]

    @model_validator(mode="after")
    def _consistent(self) -> QuestionBank:
        if len({q.id for q in self.questions}) != len(self.questions):
            raise ValueError("question ids must be distinct")
        wanted = self.settings.questions_per_attempt
        if wanted is not None and wanted > len(self.questions):
            raise ValueError(f"questionsPerAttempt is {wanted}, more than the questions")
        return self

    def split(self) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        """(settings, questions as learners see them, answer keys by question id) as stored."""
        shown: list[dict[str, Any]] = []
        keys: dict[str, Any] = {}
        for q in self.questions:
            public: dict[str, Any] = {
                "id": q.id,
                "kind": q.kind,
                "prompt": q.prompt,
                "points": q.points,
            }
            key: dict[str, Any]
            match q:
                case SingleChoice() | MultipleChoice():
                    key = {"correct": q.correct}
                case NumericQuestion():
                    key = {"value": q.answer, "tolerance": q.tolerance}
                case ShortText():
                    key = {"accepted": q.accepted, "pattern": q.pattern}
                case Ordering():
                    key = {"order": [o.id for o in q.options]}
            if isinstance(q, _WithOptions):
                public["options"] = [o.model_dump() for o in q.options]
            shown.append(public)
            keys[q.id] = {**key, "explanation": q.explanation}
        settings = self.settings.model_dump(by_alias=True, exclude_none=True)
        return settings, shown, keys

    @classmethod
    def from_parts(
        cls, settings: dict[str, Any], questions: list[dict[str, Any]], keys: dict[str, Any]
    ) -> QuestionBank:
        """The bank as `split` stored it."""
        whole: list[dict[str, Any]] = []
        for shown in questions:
            key = dict(keys.get(shown["id"], {}))
            match shown["kind"]:
                case "NUMERIC":
                    key["answer"] = key.pop("value")
                case "ORDERING":
                    order = {item: i for i, item in enumerate(key.pop("order"))}
                    shown = {
                        **shown,
                        "options": sorted(shown["options"], key=lambda o: order[o["id"]]),
                    }
            whole.append({**shown, **key})
        return cls.model_validate({"settings": settings, "questions": whole})


class ShownOption(CamelModel):
    """An option as a learner sees it."""

    id: str
    text: str


class ShownQuestion(CamelModel):
    """A question of an attempt as its learner sees it: never its key nor its explanation."""

    id: str
    kind: str
    prompt: str
    points: float
    options: list[ShownOption] | None = None


class QuestionResult(CamelModel):
    """How one question of a submitted attempt was graded, with its explanation."""

    question_id: str
    correct: bool
    points: float
    earned: float
    answer: Any = None
    explanation: str | None = None


class Attempt(CamelModel):
    """An attempt: its questions in the order drawn; once submitted, its grade and results."""

    id: str
    skill_id: str
    started_at: datetime
    expires_at: datetime | None = None
    questions: list[ShownQuestion]
    submitted_at: datetime | None = None
    score: float | None = None
    passed: bool | None = None
    expired: bool | None = None
    results: list[QuestionResult] | None = None
    completion: dict[str, Any] | None = None
    """What the completion did (the engine's outcome) when the attempt passed."""
    repeated: bool = False
    """True when this answers a start or submit made before (the open attempt, the first grade)."""
    review: bool = False
    """A mastery review: an attempt at a skill already completed (it completes nothing again)."""
    mastery: ReviewOutcome | None = None
    """What the review did to the skill's mastery, once submitted (docs/progress.md, "Mastery")."""


class AttemptSummary(CamelModel):
    """One of the learner's attempts in a list: when, and once submitted its grade (the
    questions and results are `GET /attempts/{id}`'s)."""

    id: str
    skill_id: str
    started_at: datetime
    expires_at: datetime | None = None
    submitted_at: datetime | None = None
    score: float | None = None
    passed: bool | None = None
    expired: bool | None = None


class AttemptPage(Page[AttemptSummary]):
    """A page of the learner's attempts at a skill, newest first."""


Answer = (
    Annotated[str, Field(max_length=2000)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=50)]
    | None
)


class SubmitRequest(CamelModel):
    """The learner's answers by question id: an option id (single choice), option ids (multiple
    choice), item ids in order (ordering), a number or a string such as "1,5" (numeric), a string
    (short text). A question left out is answered with nothing."""

    answers: Annotated[dict[str, Answer], Field(max_length=MAX_QUESTIONS, default_factory=dict)]
    """(Keys that name no question of the attempt are left out of the grade.)"""

    @field_validator("answers")
    @classmethod
    def _finite(cls, answers: dict[str, Any]) -> dict[str, Any]:
        for value in answers.values():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError("numbers must be finite")
        return answers
