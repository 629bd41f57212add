"""The spec's enums; each is a PostgreSQL enum type of the same name and values."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


class DifficultyLevel(enum.StrEnum):
    """How hard a tree or skill is."""

    BEGINNER = "BEGINNER"
    INTERMEDIATE = "INTERMEDIATE"
    ADVANCED = "ADVANCED"
    EXPERT = "EXPERT"


class SkillType(enum.StrEnum):
    """What kind of learning a skill is."""

    KNOWLEDGE = "KNOWLEDGE"
    PRACTICAL = "PRACTICAL"
    PROJECT = "PROJECT"
    ASSESSMENT = "ASSESSMENT"
    MILESTONE = "MILESTONE"


class TreeProgressStatus(enum.StrEnum):
    """A learner's state in a whole tree."""

    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    PAUSED = "PAUSED"


class SkillProgressStatus(enum.StrEnum):
    """A learner's state in one skill."""

    LOCKED = "LOCKED"
    AVAILABLE = "AVAILABLE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    SKIPPED = "SKIPPED"


class CompletionMethod(enum.StrEnum):
    """How a skill was completed."""

    MANUAL = "MANUAL"
    ASSESSMENT = "ASSESSMENT"
    PROJECT = "PROJECT"
    TIME_BASED = "TIME_BASED"
    EXTERNAL = "EXTERNAL"


class AchievementCategory(enum.StrEnum):
    """The family an achievement belongs to."""

    PROGRESS = "PROGRESS"
    STREAK = "STREAK"
    EXPLORATION = "EXPLORATION"
    MASTERY = "MASTERY"
    SOCIAL = "SOCIAL"
    TIME = "TIME"


class AchievementRarity(enum.StrEnum):
    """How rare an achievement is."""

    COMMON = "COMMON"
    UNCOMMON = "UNCOMMON"
    RARE = "RARE"
    LEGENDARY = "LEGENDARY"


class UserRole(enum.StrEnum):
    """What a user may do: learn, author trees, or administer everything (not in the spec)."""

    LEARNER = "LEARNER"
    AUTHOR = "AUTHOR"
    ADMIN = "ADMIN"


class ProgressEventKind(enum.StrEnum):
    """What happened in a learner's progress (the audit trail; not in the spec)."""

    ENROLL = "ENROLL"
    START = "START"
    COMPLETE = "COMPLETE"
    SKIP = "SKIP"
    ACTIVITY = "ACTIVITY"
    UNLOCK = "UNLOCK"
    ACHIEVEMENT = "ACHIEVEMENT"
    LEVEL_UP = "LEVEL_UP"


class MasteryLevel(enum.StrEnum):
    """How well a completed skill is known (issue 14 part 6; not in the spec)."""

    FAMILIAR = "FAMILIAR"
    PROFICIENT = "PROFICIENT"
    MASTERED = "MASTERED"


def pg_enum(python_enum: type[enum.StrEnum]) -> Enum:
    """The PostgreSQL enum type for `python_enum`, named exactly as the spec (e.g. "SkillType")."""
    return Enum(
        python_enum,
        name=python_enum.__name__,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
