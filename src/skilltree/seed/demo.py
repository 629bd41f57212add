"""The demo data set: more categories, six published trees and four learners with weeks of
learning behind them, made through the progress engine as a real learner's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.catalog.keys import skill_key
from skilltree.graph import snapshots
from skilltree.graph.dag import layered_positions, learning_order
from skilltree.models import (
    CompletionMethod,
    DifficultyLevel,
    ProgressEventKind,
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    SkillTreePrerequisite,
    SkillType,
)
from skilltree.progress import repository as progress_events
from skilltree.seed.curriculum import CATEGORIES, TREES, SkillOutline, TreeOutline
from skilltree.seed.learners import (
    DEMO_PASSWORD,
    LEARNERS,
    SkillNode,
    Step,
    TreeGraph,
    plan_learning,
)
from skilltree.seed.rows import Row, insert_rows
from skilltree.seed.spec import load_categories, load_skills, load_spec_seed, load_trees, load_users
from skilltree.seed.teaching import (
    TIME_BASED_MINUTES,
    TIME_BASED_SKILL,
    TREE,
    article,
    extra_modules,
    load_author,
    load_teaching,
)

NODE_SPACING = 220
LEVEL_HEIGHT = 200
LAYOUT_CONFIG = {"theme": "modern", "nodeSpacing": NODE_SPACING, "levelHeight": LEVEL_HEIGHT}
_DIFFICULTY_BY_THIRD = (
    DifficultyLevel.BEGINNER,
    DifficultyLevel.INTERMEDIATE,
    DifficultyLevel.ADVANCED,
)


def load_demo(session: Session, *, show_progress: bool = False) -> None:
    """Load the spec seed, then the demo categories, trees and learners (with their progress).

    Idempotent: existing categories, trees, skills and learners are left untouched, and a
    learner's progress is only written with the learner. Flushes only; the caller commits.
    """
    with Progress(disable=not show_progress) as progress:
        task = progress.add_task("Loading demo data", total=len(TREES) + len(LEARNERS) + 1)
        load_spec_seed(session)
        load_categories(session, CATEGORIES)
        category_ids = dict(
            session.execute(select(SkillCategory.slug, SkillCategory.id)).tuples().all()
        )
        author_id = load_author(session)
        tree_ids = load_trees(
            session, [tree_row(tree) | {"created_by": author_id} for tree in TREES], category_ids
        )
        progress.advance(task)
        for tree in TREES:
            name_of = {skill.short_name: skill.name for skill in tree.skills}
            edges = [
                (skill.name, name_of[needed])
                for skill in tree.skills
                for needed in skill.prerequisites
            ]
            load_skills(session, tree_ids[tree.slug], skill_rows(tree), edges)
            progress.advance(task)
        insert_rows(
            session,
            SkillTreePrerequisite,
            [
                {"skill_tree_id": tree_ids[tree.slug], "prerequisite_id": _tree_id(session, slug)}
                for tree in TREES
                for slug in tree.prerequisites
            ],
        )
        load_learners(session, progress, task)
        # After the learners' weeks: a bank makes ASSESSMENT go through attempts only.
        load_teaching(session, [learner.email for learner in LEARNERS])
        # The trees' prerequisites and the teaching moved some trees' versions on after their
        # graphs were stored (load_skills): stored again at the versions they have now.
        snapshots.store_missing(session)


def load_learners(session: Session, progress: Progress, task: Any) -> None:
    """Create the demo learners that do not exist yet, each with their weeks of learning."""
    graphs = tree_graphs(session, {slug for learner in LEARNERS for slug, _ in learner.plan})
    now = datetime.now(UTC)
    plans = {learner.email: plan_learning(learner, graphs, now) for learner in LEARNERS}
    # Each signed up a little before their first event.
    joined = {email: steps[0].at - timedelta(minutes=10) for email, steps in plans.items()}
    created = load_users(
        session,
        [
            (
                learner.user_row(joined[learner.email]),
                DEMO_PASSWORD,
                learner.profile_row(joined[learner.email]),
            )
            for learner in LEARNERS
        ],
    )
    for learner in LEARNERS:
        user_id = created.get(learner.email)
        if user_id is not None:
            replay(session, user_id, plans[learner.email])
        progress.advance(task)


def replay(session: Session, user_id: str, steps: list[Step]) -> None:
    """Make each step's event through the progress engine, at the step's time, as the API
    would (so the engine unlocks, counts XP and streaks, awards achievements and records it)."""
    for step in steps:
        if step.kind is ProgressEventKind.ENROLL:
            answer = progress_events.enrol(
                session, user_id, step.tree.slug, step.at, unpublished_ok=False
            )
        else:
            assert step.skill is not None
            answer = progress_events.skill_event(
                session,
                step.kind,
                user_id,
                step.skill.id,
                step.at,
                unpublished_ok=False,
                method=step.method,
                score=step.score,
                minutes=step.minutes,
            )
        if "refused" in answer:  # the plan broke a rule: a bug of the demo, not of its user
            raise ValueError(f"the demo's {step} was refused: {answer}")


def tree_graphs(session: Session, slugs: set[str]) -> dict[str, TreeGraph]:
    """The active skills of the trees with these slugs in learning order, by slug."""
    graphs = {
        slug: TreeGraph(id=tree_id, slug=slug)
        for slug, tree_id in session.execute(
            select(SkillTree.slug, SkillTree.id).where(SkillTree.slug.in_(slugs))
        ).tuples()
    }
    by_id = {graph.id: graph for graph in graphs.values()}
    needs: dict[str, dict[str, set[str]]] = {tree_id: {} for tree_id in by_id}
    for tree_id, skill_id, depends_on_id in session.execute(
        select(
            SkillDependency.skill_tree_id, SkillDependency.skill_id, SkillDependency.depends_on_id
        ).where(SkillDependency.skill_tree_id.in_(by_id))
    ).tuples():
        needs[tree_id].setdefault(skill_id, set()).add(depends_on_id)
    skills: dict[str, dict[str, tuple[tuple[float, float, str], SkillNode]]] = {}
    for skill in session.execute(
        select(
            Skill.skill_tree_id,
            Skill.id,
            Skill.short_name,
            Skill.skill_type,
            Skill.estimated_minutes,
            Skill.is_optional,
            Skill.position_y,
            Skill.position_x,
            Skill.name,
            Skill.completion_policy,
        ).where(Skill.skill_tree_id.in_(by_id), Skill.is_active)
    ).tuples():
        tree_id, id_, short_name, kind, minutes, optional, y, x, name, policy = skill
        methods = frozenset(CompletionMethod(method) for method in policy)
        skills.setdefault(tree_id, {})[id_] = (
            (y, x, name),
            SkillNode(id_, short_name or name, kind, minutes or 0, optional, methods),
        )
    for tree_id, graph in by_id.items():
        nodes = skills.get(tree_id, {})
        # Only active skills count, as prerequisites too.
        active = {id_: needs[tree_id].get(id_, set()) & nodes.keys() for id_ in nodes}
        # Ties go by layout (top to bottom, left to right), so learners follow the drawn tree.
        layout = {id_: position for id_, (position, _) in nodes.items()}
        graph.order = [nodes[id_][1] for id_ in learning_order(active, sort_key=layout.__getitem__)]
    return graphs


def tree_row(tree: TreeOutline) -> Row:
    """The `skill_trees` row of a demo tree (`category` names the category's slug)."""
    return {
        "category": tree.category,
        "name": tree.name,
        "slug": tree.slug,
        "description": tree.description,
        "short_description": tree.short_description,
        "difficulty": tree.difficulty,
        "estimated_hours": round(sum(skill.minutes for skill in tree.skills) / 60, 1),
        "tags": list(tree.tags),
        "is_published": True,
        "is_featured": tree.featured,
        "layout_config": LAYOUT_CONFIG,
    }


def skill_rows(tree: TreeOutline) -> list[Row]:
    """The `skills` rows of a demo tree, laid out by prerequisite layer."""
    positions = tree_layout(tree)
    depth = max(y for _, y in positions.values()) / LEVEL_HEIGHT + 1
    rows = []
    for skill in tree.skills:
        x, y = positions[skill.short_name]
        resources = [{"type": "link", "title": title, "url": url} for title, url in skill.resources]
        rows.append(
            {
                "key": skill_key(skill.short_name),
                "name": skill.name,
                "short_name": skill.short_name,
                "description": skill.description,
                "learning_objectives": list(skill.objectives),
                "skill_type": skill.kind,
                # The first third of the layers is for beginners, the last third is advanced.
                "difficulty": _DIFFICULTY_BY_THIRD[int(3 * (y / LEVEL_HEIGHT) // depth)],
                "estimated_minutes": skill.minutes,
                "xp_value": skill.xp,
                "position_x": x,
                "position_y": y,
                "node_size": 3 if skill.milestone else 2 if skill.kind is SkillType.PROJECT else 1,
                "content": skill_content(skill, resources, featured=tree.slug == TREE),
                "resources": resources,
                "completion_policy": completion_policy(
                    skill.kind,
                    time_based=tree.slug == TREE and skill.short_name == TIME_BASED_SKILL,
                ),
                "is_optional": skill.optional,
                "is_milestone": skill.milestone,
            }
        )
    return rows


def tree_layout(tree: TreeOutline) -> dict[str, tuple[float, float]]:
    """Each skill's (x, y) by short name: layer down, place in the layer across.

    Refuses an outline whose skill needs one not listed before it (a typo, or a cycle).
    """
    listed: set[str] = set()
    for skill in tree.skills:
        unknown = [name for name in skill.prerequisites if name not in listed]
        if unknown or skill.short_name in listed:
            raise ValueError(
                f"{tree.slug}: {skill.short_name!r} is listed twice or needs {unknown}"
            )
        listed.add(skill.short_name)
    return layered_positions(
        {skill.short_name: skill.prerequisites for skill in tree.skills},
        [skill.short_name for skill in tree.skills],
        level_height=LEVEL_HEIGHT,
        node_spacing=NODE_SPACING,
    )


def completion_policy(kind: SkillType, *, time_based: bool = False) -> dict[str, Any]:
    """How a demo skill of this type may be completed: a project submitted, knowledge shown by an
    assessment passed at 70, practice marked done (as the demo's learners complete them,
    `learners._completion`). MANUAL too, so that a newcomer can complete every skill in the web
    app, which does not take assessments or projects yet (issue 14, parts 2 and 3). A
    `time_based` skill is completed by time logged on it too (teaching.TIME_BASED_SKILL)."""
    if time_based:
        return {"MANUAL": {}, "TIME_BASED": {"minutes": TIME_BASED_MINUTES}}
    if kind is SkillType.PROJECT:
        return {"MANUAL": {}, "PROJECT": {}}
    if kind is SkillType.PRACTICAL:
        return {"MANUAL": {}}
    return {"MANUAL": {}, "ASSESSMENT": {"passingScore": 70}}


def skill_content(
    skill: SkillOutline, resources: list[dict[str, str]], *, featured: bool = False
) -> dict[str, Any]:
    """A structured `content` document: read (an article in Markdown), then practise, check or
    build, per skill type; the `featured` tree's skills may have a video too (teaching)."""
    if skill.kind is SkillType.PROJECT:
        reading, follow_up = 30, ("Build and submit the project", "assessment")
    elif skill.kind is SkillType.PRACTICAL:
        reading, follow_up = skill.minutes // 3, ("Hands-on exercises", "interactive")
    else:
        reading, follow_up = skill.minutes * 2 // 3, ("Check your understanding", "assessment")
    return {
        "type": "structured",
        "modules": [
            {
                "title": skill.name,
                "type": "article",
                "estimatedMinutes": reading,
                "resources": resources,
                "body": article(
                    skill.short_name if featured else "", skill.description, skill.objectives
                ),
            },
            *(extra_modules(skill.short_name) if featured else []),
            {
                "title": follow_up[0],
                "type": follow_up[1],
                "estimatedMinutes": skill.minutes - reading,
                "resources": [],
            },
        ],
    }


def _tree_id(session: Session, slug: str) -> str:
    return session.execute(select(SkillTree.id).where(SkillTree.slug == slug)).scalar_one()
