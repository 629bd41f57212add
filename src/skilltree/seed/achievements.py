"""The achievements every SkillTree database starts with: the spec's First Steps and a ladder of
milestones for skills, XP, streaks, trees, milestone skills, categories, time and mastery."""

from __future__ import annotations

from typing import Any

from skilltree.models import AchievementCategory, AchievementRarity

_PROGRESS = AchievementCategory.PROGRESS
_STREAK = AchievementCategory.STREAK
_MASTERY = AchievementCategory.MASTERY
_EXPLORATION = AchievementCategory.EXPLORATION
_TIME = AchievementCategory.TIME
_COMMON = AchievementRarity.COMMON
_UNCOMMON = AchievementRarity.UNCOMMON
_RARE = AchievementRarity.RARE
_LEGENDARY = AchievementRarity.LEGENDARY


def _achievement(
    name: str,
    description: str,
    category: AchievementCategory,
    criteria: dict[str, Any],
    xp_reward: int,
    badge_icon: str,
    badge_color: str,
    rarity: AchievementRarity,
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "category": category,
        "criteria": criteria,
        "xp_reward": xp_reward,
        "badge_icon": badge_icon,
        "badge_color": badge_color,
        "rarity": rarity,
    }


def _criteria(kind: str, threshold: int, category: str | None = None) -> dict[str, Any]:
    if category is None:
        return {"type": kind, "threshold": threshold}
    return {"type": kind, "threshold": threshold, "additionalParams": {"category": category}}


ACHIEVEMENTS: tuple[dict[str, Any], ...] = (
    # First Steps is exactly the spec's seed.ts; the rest build ladders around it.
    _achievement("First Steps", "Complete your first skill", _PROGRESS,
                 _criteria("skill_completion_count", 1), 25, "trophy", "#F59E0B", _COMMON),
    _achievement("Getting Going", "Complete 10 skills", _PROGRESS,
                 _criteria("skill_completion_count", 10), 100, "footprints", "#10B981", _UNCOMMON),
    _achievement("Half Century", "Complete 50 skills", _PROGRESS,
                 _criteria("skill_completion_count", 50), 300, "medal", "#6366F1", _RARE),
    _achievement("Rising Star", "Earn 500 XP", _PROGRESS,
                 _criteria("xp_threshold", 500), 50, "star", "#EAB308", _COMMON),
    _achievement("Powerhouse", "Earn 2,000 XP", _PROGRESS,
                 _criteria("xp_threshold", 2000), 150, "zap", "#F97316", _UNCOMMON),
    _achievement("On a Roll", "Learn three days in a row", _STREAK,
                 _criteria("streak_days", 3), 30, "flame", "#EF4444", _COMMON),
    _achievement("Week Warrior", "Learn seven days in a row", _STREAK,
                 _criteria("streak_days", 7), 75, "calendar-check", "#DC2626", _UNCOMMON),
    _achievement("Unstoppable", "Learn thirty days in a row", _STREAK,
                 _criteria("streak_days", 30), 400, "rocket", "#B91C1C", _LEGENDARY),
    _achievement("Tree Climber", "Complete every skill of a skill tree", _MASTERY,
                 _criteria("trees_completed", 1), 200, "tree-pine", "#16A34A", _UNCOMMON),
    _achievement("Forest Ranger", "Complete three skill trees", _MASTERY,
                 _criteria("trees_completed", 3), 500, "trees", "#15803D", _RARE),
    _achievement("Milestone Reached", "Reach your first milestone skill", _PROGRESS,
                 _criteria("milestones_reached", 1), 50, "flag", "#0EA5E9", _COMMON),
    _achievement("Web Explorer", "Complete five Web Development skills", _EXPLORATION,
                 _criteria("skills_in_category", 5, "web-development"), 60, "globe", "#10B981",
                 _COMMON),
    _achievement("Data Wrangler", "Complete five Data Science skills", _EXPLORATION,
                 _criteria("skills_in_category", 5, "data-science"), 60, "database", "#8B5CF6",
                 _COMMON),
    # Hours measured on content modules (heartbeats), not minutes a client reports.
    _achievement("First Hour", "Spend an hour on skills' content", _TIME,
                 _criteria("hours_learned", 1), 20, "clock", "#0891B2", _COMMON),
    _achievement("Ten Hours In", "Spend ten hours on skills' content", _TIME,
                 _criteria("hours_learned", 10), 100, "hourglass", "#0E7490", _UNCOMMON),
    _achievement("Hundred Hours", "Spend a hundred hours on skills' content", _TIME,
                 _criteria("hours_learned", 100), 500, "timer", "#155E75", _RARE),
    # Mastery kept up by reviews (docs/progress.md, "Mastery"): skills a review left MASTERED.
    _achievement("Kept Sharp", "Master a skill by reviewing it", _MASTERY,
                 _criteria("skills_mastered", 1), 40, "brain", "#7C3AED", _UNCOMMON),
    _achievement("Master of Ten", "Master 10 skills", _MASTERY,
                 _criteria("skills_mastered", 10), 300, "gem", "#6D28D9", _RARE),
)  # fmt: skip
