"""Content API shapes (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from skilltree.progress.schemas import ProgressOutcome
from skilltree.schemas import CamelModel


class ModuleResource(CamelModel):
    """A link, file or embed a module uses."""

    type: Literal["link", "file", "embed"]
    title: str
    url: str


class ModuleProgress(CamelModel):
    """The signed-in learner's time on one module."""

    module_id: str
    opened_at: datetime
    """The first heartbeat."""
    last_heartbeat_at: datetime
    seconds_spent: float
    """Measured by heartbeats: never more than the wall-clock time between them, at most
    CONTENT_HEARTBEAT_MAX_SECONDS per heartbeat, and at most `capSeconds` in all."""
    heartbeats: int
    done_at: datetime | None
    cap_seconds: int
    """The most time the module counts: CONTENT_MODULE_TIME_FACTOR times its estimate."""


class SkillModule(CamelModel):
    """One content module of a skill, as learners see it."""

    id: str
    """The module's `id`, or its position (1, 2, ...) when the author gave none: the name its
    heartbeats use."""
    position: int
    title: str
    type: Literal["article", "video", "interactive", "assessment"]
    estimated_minutes: int | float
    resources: list[ModuleResource]
    body: str | None = None
    """The module's own text in Markdown, when its author wrote one (not in the spec)."""
    cap_seconds: int
    progress: ModuleProgress | None
    """The signed-in learner's, once they opened it; null otherwise."""


class SkillModules(CamelModel):
    """A skill's content modules, with the signed-in learner's time on them."""

    skill_id: str
    content_type: Literal["structured", "simple"] | None
    modules: list[SkillModule]
    heartbeat_max_seconds: int
    """The most one heartbeat adds (beat more often than this)."""
    verified_seconds: float | None
    """The learner's time measured on the skill's modules (null when not signed in)."""
    required_minutes: int | None
    """The minutes a TIME_BASED completion needs (null when the policy has no TIME_BASED)."""
    has_question_bank: bool
    """Whether the skill has a question bank to start attempts at (`POST
    /skills/{id}/attempts`); never its questions or keys."""


class HeartbeatOutcome(CamelModel):
    """What one heartbeat did: the module's time, and its consequences."""

    module: ModuleProgress
    added_seconds: float
    """What this heartbeat added (0 for the first, a repeat, or a module at its cap)."""
    verified_seconds: float
    """The learner's time measured on all the skill's modules."""
    progress: ProgressOutcome
    """The skill, tree and profile after it (hours learned, achievements earned)."""
    completion: ProgressOutcome | None
    """The TIME_BASED completion this heartbeat made, when its minutes were reached."""


class ModuleDone(CamelModel):
    """A module marked done."""

    module: ModuleProgress
