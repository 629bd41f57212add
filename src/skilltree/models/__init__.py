"""All SkillTree tables; importing this package registers every model on `Base.metadata`."""

from skilltree.db.base import Base
from skilltree.models.accounts import User, UserProfile, UserSession
from skilltree.models.catalog import (
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    SkillTreePrerequisite,
)
from skilltree.models.enums import (
    AchievementCategory,
    AchievementRarity,
    CompletionMethod,
    DifficultyLevel,
    SkillProgressStatus,
    SkillType,
    TreeProgressStatus,
    UserRole,
)
from skilltree.models.gamification import Achievement, UserAchievement
from skilltree.models.progress import UserSkillProgress, UserSkillTreeProgress

__all__ = [
    "Achievement",
    "AchievementCategory",
    "AchievementRarity",
    "Base",
    "CompletionMethod",
    "DifficultyLevel",
    "Skill",
    "SkillCategory",
    "SkillDependency",
    "SkillProgressStatus",
    "SkillTree",
    "SkillTreePrerequisite",
    "SkillType",
    "TreeProgressStatus",
    "User",
    "UserAchievement",
    "UserProfile",
    "UserRole",
    "UserSession",
    "UserSkillProgress",
    "UserSkillTreeProgress",
]
