"""All SkillTree tables; importing this package registers every model on `Base.metadata`."""

from skilltree.db.base import Base
from skilltree.models.accounts import User, UserProfile, UserSession
from skilltree.models.analytics import (
    AnalyticsFoldState,
    AnalyticsPlatformPeriod,
    AnalyticsSkillCounts,
    AnalyticsSkillTimes,
    AnalyticsTimeSnapshot,
    AnalyticsTreeDay,
)
from skilltree.models.assessments import AssessmentAttempt, QuestionBank
from skilltree.models.catalog import (
    Skill,
    SkillCategory,
    SkillDependency,
    SkillRank,
    SkillTree,
    SkillTreeGraph,
    SkillTreePrerequisite,
    SkillTreeRanks,
)
from skilltree.models.content import UserSkillModuleProgress
from skilltree.models.enums import (
    AchievementCategory,
    AchievementRarity,
    CompletionMethod,
    DifficultyLevel,
    MasteryLevel,
    ProgressEventKind,
    SkillProgressStatus,
    SkillType,
    TreeProgressStatus,
    UserRole,
)
from skilltree.models.gamification import (
    Achievement,
    UserAchievement,
    XpHistogram,
    XpHistogramPending,
)
from skilltree.models.integrations import Integration, IntegrationDelivery, IntegrationSecret
from skilltree.models.mastery import MasteryReview, SkillMastery
from skilltree.models.operations import JobRun, RelationSize
from skilltree.models.progress import ProgressEvent, UserSkillProgress, UserSkillTreeProgress
from skilltree.models.requests import IdempotencyRecord
from skilltree.models.reviews import ProjectRubric, ProjectSubmission, TreeMentor
from skilltree.models.search import SearchConfiguration

__all__ = [
    "Achievement",
    "AchievementCategory",
    "AchievementRarity",
    "AnalyticsFoldState",
    "AnalyticsPlatformPeriod",
    "AnalyticsSkillCounts",
    "AnalyticsSkillTimes",
    "AnalyticsTimeSnapshot",
    "AnalyticsTreeDay",
    "AssessmentAttempt",
    "Base",
    "CompletionMethod",
    "DifficultyLevel",
    "IdempotencyRecord",
    "Integration",
    "IntegrationDelivery",
    "IntegrationSecret",
    "JobRun",
    "MasteryLevel",
    "MasteryReview",
    "ProgressEvent",
    "ProgressEventKind",
    "ProjectRubric",
    "ProjectSubmission",
    "QuestionBank",
    "RelationSize",
    "SearchConfiguration",
    "Skill",
    "SkillCategory",
    "SkillDependency",
    "SkillMastery",
    "SkillProgressStatus",
    "SkillRank",
    "SkillTree",
    "SkillTreeGraph",
    "SkillTreePrerequisite",
    "SkillTreeRanks",
    "SkillType",
    "TreeMentor",
    "TreeProgressStatus",
    "User",
    "UserAchievement",
    "UserProfile",
    "UserRole",
    "UserSession",
    "UserSkillModuleProgress",
    "UserSkillProgress",
    "UserSkillTreeProgress",
    "XpHistogram",
    "XpHistogramPending",
]
