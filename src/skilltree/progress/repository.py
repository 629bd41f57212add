"""Progress queries: a learner's view of one tree, locks, and the rows an event writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from skilltree.graph import service as graph_service
from skilltree.graph.tree_graphs import SkillFacts
from skilltree.models import (
    Achievement,
    ProgressEvent,
    ProgressEventKind,
    Skill,
    SkillCategory,
    SkillProgressStatus,
    SkillTree,
    TreeProgressStatus,
    UserAchievement,
    UserProfile,
    UserSkillProgress,
    UserSkillTreeProgress,
)


@dataclass
class TreeView:
    """One tree as a learner sees it: active skills, their prerequisites, the learner's rows."""

    tree: SkillTree
    category_slug: str
    skills: dict[str, SkillFacts]
    """Active skills, from the tree's graph (shared: never change it)."""
    needs: dict[str, list[str]]
    """Active skill -> its active direct prerequisites (shared: never change it)."""
    optional: frozenset[str]
    """The optional active skills."""
    rows: dict[str, UserSkillProgress]
    enrolment: UserSkillTreeProgress | None


def lock_profile(session: Session, user_id: str) -> UserProfile:
    """The learner's profile, locked until commit: one progress event per learner at a time."""
    session.execute(
        pg_insert(UserProfile)
        .values(user_id=user_id)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    profile = session.scalars(
        select(UserProfile)
        .where(UserProfile.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return profile


def find_tree_of_skill(session: Session, skill_id: str) -> tuple[Skill, SkillTree] | None:
    """A skill (active or not) with its tree."""
    row = session.execute(
        select(Skill, SkillTree)
        .join(SkillTree, SkillTree.id == Skill.skill_tree_id)
        .where(Skill.id == skill_id)
        .execution_options(populate_existing=True)  # a current structure_version
    ).one_or_none()
    return (row[0], row[1]) if row else None


def tree_view(session: Session, user_id: str, tree: SkillTree) -> TreeView:
    """Everything about `tree` that the progress rules read: its graph (the cached copy while the
    tree's version is unchanged: progress events never write trees) and the learner's rows."""
    graph = graph_service.tree_graph(session, tree.id, tree.structure_version, from_cache=True)
    skills, needs = graph.skills, graph.needs
    rows = {
        row.skill_id: row
        for row in session.scalars(
            select(UserSkillProgress)
            .where(UserSkillProgress.user_id == user_id, UserSkillProgress.skill_tree_id == tree.id)
            .execution_options(populate_existing=True)
        )
    }
    enrolment = session.scalars(
        select(UserSkillTreeProgress)
        .where(
            UserSkillTreeProgress.user_id == user_id,
            UserSkillTreeProgress.skill_tree_id == tree.id,
        )
        .execution_options(populate_existing=True)
    ).one_or_none()
    category_slug = session.scalars(
        select(SkillCategory.slug).where(SkillCategory.id == tree.category_id)
    ).one()
    return TreeView(tree, category_slug, skills, needs, graph.optional, rows, enrolment)


def record(
    session: Session,
    user_id: str,
    kind: ProgressEventKind,
    *,
    tree_id: str | None = None,
    skill_id: str | None = None,
    achievement_id: str | None = None,
    xp_delta: int = 0,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event to the learner's audit trail (written with the event's other rows, in
    one batch at the next flush, in the order recorded)."""
    session.add(
        ProgressEvent(
            user_id=user_id,
            kind=kind,
            skill_tree_id=tree_id,
            skill_id=skill_id,
            achievement_id=achievement_id,
            xp_delta=xp_delta,
            details=details or {},
        )
    )


@dataclass(frozen=True)
class Measures:
    """The learner-wide numbers achievement criteria are measured against (from the database)."""

    skills_completed: int
    trees_completed: int
    trees_started: int
    milestones_reached: int
    skills_by_category: dict[str, int]


def measures(session: Session, user_id: str) -> Measures:
    """Count the learner's completed skills (by category), trees and milestones, exactly."""
    by_category: dict[str, int] = dict(
        session.execute(
            select(SkillCategory.slug, func.count())
            .select_from(UserSkillProgress)
            .join(SkillTree, SkillTree.id == UserSkillProgress.skill_tree_id)
            .join(SkillCategory, SkillCategory.id == SkillTree.category_id)
            .where(
                UserSkillProgress.user_id == user_id,
                UserSkillProgress.status == SkillProgressStatus.COMPLETED,
            )
            .group_by(SkillCategory.slug)
        )
        .tuples()
        .all()
    )
    trees = session.execute(
        select(
            func.count().filter(UserSkillTreeProgress.status == TreeProgressStatus.COMPLETED),
            func.count().filter(UserSkillTreeProgress.status != TreeProgressStatus.NOT_STARTED),
            func.coalesce(func.sum(func.cardinality(UserSkillTreeProgress.milestones_reached)), 0),
        ).where(UserSkillTreeProgress.user_id == user_id)
    ).one()
    return Measures(
        skills_completed=sum(by_category.values()),
        trees_completed=int(trees[0]),
        trees_started=int(trees[1]),
        milestones_reached=int(trees[2]),
        skills_by_category=by_category,
    )


def unearned_achievements(session: Session, user_id: str) -> list[Achievement]:
    """Active achievements the learner has not earned yet."""
    earned = select(UserAchievement.achievement_id).where(UserAchievement.user_id == user_id)
    return list(
        session.scalars(
            select(Achievement)
            .where(Achievement.is_active, Achievement.id.not_in(earned))
            .order_by(Achievement.name, Achievement.id)
        )
    )


def award(
    session: Session, user_id: str, achievement: Achievement, metadata: dict[str, Any]
) -> bool:
    """Give the learner `achievement` unless they have it (unique_user_achievement); True if new."""
    inserted = session.execute(
        pg_insert(UserAchievement)
        .values(user_id=user_id, achievement_id=achievement.id, metadata_=metadata)
        .on_conflict_do_nothing(constraint="unique_user_achievement")
        .returning(UserAchievement.id)
    ).first()
    return inserted is not None


def enrolments(session: Session, user_id: str) -> list[tuple[UserSkillTreeProgress, SkillTree]]:
    """The learner's enrolments with their trees, most recently active first."""
    return [
        (enrolment, tree)
        for enrolment, tree in session.execute(
            select(UserSkillTreeProgress, SkillTree)
            .join(SkillTree, SkillTree.id == UserSkillTreeProgress.skill_tree_id)
            .where(UserSkillTreeProgress.user_id == user_id)
            .order_by(
                UserSkillTreeProgress.last_activity_at.desc().nulls_last(),
                UserSkillTreeProgress.created_at.desc(),
                SkillTree.slug,
            )
        ).tuples()
    ]


def refresh_enrolments(session: Session, tree_id: str) -> None:
    """Recompute every learner's progress in `tree_id` and their completed-tree counts.

    Runs as `refresh_tree_enrolments()` (migration 0010), a SECURITY DEFINER function: the
    author's request may not touch learners' rows under row-level security.
    """
    session.flush()
    session.execute(text("SELECT refresh_tree_enrolments(:tree)"), {"tree": tree_id})
