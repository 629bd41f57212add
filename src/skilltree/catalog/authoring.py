"""Authoring: authors and admins write trees, skills and prerequisites.

An author changes only the trees they created, an admin any tree; a draft of someone else looks
missing (NotFound), a published tree of someone else is Forbidden. Every function here is `atomic`:
it writes all or nothing and is rerun after a deadlock. A write that changes what learners' progress
counts (skills, their activity, optionality and prerequisites, deleting a tree) is a `tree_writer`:
it holds the tree and its learners before writing and recounts them after (catalog.tree_writes). The
database keeps both prerequisite graphs acyclic (triggers in db/schema/graph.sql); a cycle it
refuses comes back as DependencyCycle naming the skills (or trees) along it. Every write to a tree
deletes its documents from Redis once the transaction commits (cache.trees: freshness comes from the
tree's version; this frees memory).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from skilltree.cache import trees as trees_cache
from skilltree.catalog import repository
from skilltree.catalog.keys import skill_key
from skilltree.catalog.schemas import SkillCreate, SkillUpdate, TreeCreate, TreeUpdate
from skilltree.catalog.tree_writes import hold_tree, tree_writer
from skilltree.catalog.visibility import may_view_tree
from skilltree.db.atomic import atomic
from skilltree.db.base import new_id
from skilltree.db.constraints import error_detail, violated_constraint
from skilltree.documents import (
    LayoutConfig,
    SkillAssessments,
    SkillContent,
    SkillResources,
    ThemeConfig,
    validate_document,
)
from skilltree.errors import (
    AlreadyExists,
    DependencyCycle,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    SkillTreeError,
)
from skilltree.graph import snapshots
from skilltree.graph.dag import layered_positions
from skilltree.models import Skill, SkillTree, User, UserRole

DEFAULT_LEVEL_HEIGHT = 200.0
"""Vertical distance between layers when the tree's layoutConfig has no levelHeight."""
DEFAULT_NODE_SPACING = 220.0
"""Horizontal distance between skills of a layer when layoutConfig has no nodeSpacing."""

SKILL_CYCLE = "skill_dependencies_acyclic"
TREE_CYCLE = "skill_tree_prerequisites_acyclic"
_TAKEN = {
    "skill_trees_slug_key": ("slug", "A skill tree with this slug already exists."),
    "skills_skill_tree_id_key_key": ("key", "Another skill of this tree has this key."),
}
# References checked before writing, then deleted by someone else before the write landed.
_GONE = {
    "skill_trees_category_id_fkey": "categoryId",
    "skills_parent_skill_id_fkey": "parentSkillId",
    "skill_dependencies_depends_on_fkey": "dependencies",
    "skill_tree_prerequisites_prerequisite_id_fkey": "prerequisites",
}
_INVALID = "The input is not valid; see `errors` for each field."
Documents = tuple[tuple[str, str, type[BaseModel]], ...]
"""(column, field of the input, model) of each JSON column."""
_TREE_DOCUMENTS: Documents = (
    ("layout_config", "layoutConfig", LayoutConfig),
    ("theme_config", "themeConfig", ThemeConfig),
)
_SKILL_DOCUMENTS: Documents = (
    ("content", "content", SkillContent),
    ("resources", "resources", SkillResources),
    ("assessments", "assessments", SkillAssessments),
)


# --- trees ---


@atomic
def create_tree(session: Session, data: TreeCreate, actor: User) -> SkillTree:
    """A new tree written by `actor` (an author or an admin); AlreadyExists if the slug is
    taken."""
    if actor.role not in (UserRole.AUTHOR, UserRole.ADMIN):
        raise Forbidden("Only authors and admins can create skill trees.")
    values = data.model_dump(exclude={"category_slug", "category_id"})
    problems = _check_documents(values, _TREE_DOCUMENTS)
    values["category_id"] = _category(session, data.category_slug, data.category_id, problems)
    if problems:
        raise InvalidInput(_INVALID, errors=problems)
    tree = SkillTree(**values, created_by=actor.id, updated_by=actor.id)
    session.add(tree)
    _flush(session)
    return tree


@atomic
def update_tree(session: Session, slug: str, data: TreeUpdate, actor: User) -> SkillTree:
    """Tree `slug` with the fields given in `data` changed (publishing is one of them)."""
    tree = _tree_to_change(session, slug, actor)
    changes = data.model_dump(exclude_unset=True, exclude={"category_slug", "category_id"})
    problems = _check_documents(changes, _TREE_DOCUMENTS)
    if data.category_slug is not None or data.category_id is not None:
        changes["category_id"] = _category(session, data.category_slug, data.category_id, problems)
    if problems:
        raise InvalidInput(_INVALID, errors=problems)
    for column, value in changes.items():
        setattr(tree, column, value)
    tree.updated_by = actor.id
    _flush(session)
    snapshots.keep(session, tree.id)  # a new version of the tree, the same graph
    return tree


@atomic
@tree_writer
def delete_tree(session: Session, slug: str, actor: User) -> None:
    """Delete tree `slug`; its skills, their edges, learners' progress in it and its place in
    other trees' prerequisites go with it (foreign keys ON DELETE CASCADE), and its learners'
    profiles no longer count it."""
    session.delete(_tree_to_change(session, slug, actor, hold=True))
    session.flush()


@atomic
def set_tree_prerequisites(
    session: Session, slug: str, prerequisites: Sequence[str], actor: User
) -> list[SkillTree]:
    """Make the trees with the slugs `prerequisites` the whole list of tree `slug`'s
    prerequisites, and return them by name; DependencyCycle if that would close a cycle."""
    tree = _tree_to_change(session, slug, actor)
    found = repository.trees_by_slug(session, prerequisites)
    problems: list[FieldError] = []
    for index, prerequisite_slug in enumerate(prerequisites):
        other = found.get(prerequisite_slug)
        if other is not None and other.id == tree.id:
            problems.append(
                FieldError(("prerequisites", index), "a tree cannot need itself", "self_reference")
            )
        elif other is None or not may_view_tree(
            is_published=other.is_published, created_by=other.created_by, viewer=actor
        ):
            problems.append(
                FieldError(
                    ("prerequisites", index),
                    f"no tree has the slug {prerequisite_slug!r}",
                    "unknown",
                )
            )
    if problems:
        raise InvalidInput(_INVALID, errors=problems)
    ids = list(dict.fromkeys(found[s].id for s in prerequisites))
    _write_edges(session, lambda: repository.replace_tree_prerequisites(session, tree.id, ids))
    tree.updated_by = actor.id
    _flush(session)
    snapshots.store(session, tree.id)  # a new version of the tree: its graph at it
    return list(repository.tree_prerequisites(session, tree.id))


# --- skills ---


# Skill fields that learners' tree progress is counted from.
_COUNTED = frozenset({"is_active", "is_optional", "is_milestone"})
# Skill fields a tree's stored graph holds (graph.snapshots), besides those counted.
_IN_GRAPH = frozenset({"name", "position_x", "position_y", "estimated_minutes", "xp_value"})


@atomic
@tree_writer
def create_skill(session: Session, tree_slug: str, data: SkillCreate, actor: User) -> Skill:
    """A new skill in tree `tree_slug` with its dependencies; placed by its topological layer
    unless `data` gives its position; its key made from its name unless `data` gives one."""
    tree = _tree_to_change(session, tree_slug, actor, hold=True)
    values = data.model_dump(exclude={"dependencies"})
    problems = _check_documents(values, _SKILL_DOCUMENTS)
    dependencies = _check_dependencies(session, tree.id, None, data.dependencies, problems)
    problems += _parent_problems(session, tree.id, None, data.parent_skill_id)
    if problems:
        raise InvalidInput(_INVALID, errors=problems)
    skill_id = new_id()
    values["key"] = data.key or skill_key(data.name, repository.skill_keys(session, tree.id))
    values["position_x"], values["position_y"] = _position(
        session, tree, skill_id, dependencies, data.position_x, data.position_y
    )
    skill = Skill(
        id=skill_id, skill_tree_id=tree.id, **values, created_by=actor.id, updated_by=actor.id
    )
    session.add(skill)
    _flush(session)
    _write_edges(
        session, lambda: repository.replace_dependencies(session, skill_id, tree.id, dependencies)
    )
    return skill


@atomic
@tree_writer
def update_skill(session: Session, skill_id: str, data: SkillUpdate, actor: User) -> Skill:
    """Skill `skill_id` with the fields given in `data` changed (its tree and its dependencies
    are not fields of `data`)."""
    changes = data.model_dump(exclude_unset=True)
    counted = bool(changes.keys() & _COUNTED)
    skill, tree = _skill_to_change(session, skill_id, actor, hold=counted)
    problems = _check_documents(changes, _SKILL_DOCUMENTS)
    if "parent_skill_id" in changes:
        problems += _parent_problems(session, tree.id, skill.id, data.parent_skill_id)
    if problems:
        raise InvalidInput(_INVALID, errors=problems)
    for column, value in changes.items():
        setattr(skill, column, value)
    skill.updated_by = actor.id
    _flush(session)
    # A held tree's graph is stored after the writer's last write (with the ranks); otherwise
    # stored anew when the change touched what the graph holds of the skill, else kept.
    if changes.keys() & _IN_GRAPH and not counted:
        snapshots.store(session, tree.id)
    elif not counted:
        snapshots.keep(session, tree.id)
    return skill


@atomic
@tree_writer
def delete_skill(session: Session, skill_id: str, actor: User) -> None:
    """Delete skill `skill_id`: its edges and learners' progress on it go too; the skills that
    needed it simply need one skill less, and its child skills lose their parent."""
    skill, _ = _skill_to_change(session, skill_id, actor, hold=True)
    session.delete(skill)
    session.flush()


@atomic
@tree_writer
def set_dependencies(
    session: Session, skill_id: str, dependencies: Sequence[str], actor: User
) -> Skill:
    """Make `dependencies` (ids of skills of the same tree) the whole list of skill `skill_id`'s
    direct prerequisites; DependencyCycle if that would close a cycle, and then nothing
    changes. Fewer prerequisites can unlock skills for the tree's learners."""
    skill, tree = _skill_to_change(session, skill_id, actor, hold=True)
    problems: list[FieldError] = []
    ids = _check_dependencies(session, tree.id, skill.id, dependencies, problems)
    if problems:
        raise InvalidInput(_INVALID, errors=problems)
    _write_edges(session, lambda: repository.replace_dependencies(session, skill.id, tree.id, ids))
    skill.updated_by = actor.id
    _flush(session)
    return skill


def authored_skill(session: Session, skill_id: str, actor: User) -> tuple[Skill, SkillTree]:
    """The skill `skill_id` and its tree, if `actor` may change it (its tree's author, an
    admin): NotFound or Forbidden as for any change of the skill."""
    return _skill_to_change(session, skill_id, actor)


def authored_tree(session: Session, slug: str, actor: User | None) -> SkillTree:
    """The tree `slug` if `actor` may change it (its author, an admin; None: the command line,
    as the tables' owner, any): NotFound or Forbidden as for any change of the tree."""
    if actor is None:
        tree = repository.find_tree(session, slug)
        if tree is None:
            raise NotFound(f"No skill tree has the slug {slug!r}.")
        return tree
    return _tree_to_change(session, slug, actor)


# --- rules shared by the writes above ---


def _may_change(tree: SkillTree, actor: User) -> bool:
    return actor.role is UserRole.ADMIN or (
        actor.role is UserRole.AUTHOR and tree.created_by == actor.id
    )


def _tree_to_change(session: Session, slug: str, actor: User, *, hold: bool = False) -> SkillTree:
    # `hold`: the change counts for learners (tree_writes.hold_tree), and the tree is read again
    # once held, as the writer that held it before may have left it.
    tree = repository.find_tree(session, slug)
    if tree is None or not may_view_tree(
        is_published=tree.is_published, created_by=tree.created_by, viewer=actor
    ):
        raise NotFound(f"No skill tree has the slug {slug!r}.")
    if not _may_change(tree, actor):
        raise Forbidden("Only the tree's author or an admin can change it.")
    if hold and not hold_tree(session, tree.id):
        raise NotFound(f"No skill tree has the slug {slug!r}.")
    if hold:
        session.refresh(tree)
    trees_cache.forget_after_commit(session, tree.id)
    return tree


def _skill_to_change(
    session: Session, skill_id: str, actor: User, *, hold: bool = False
) -> tuple[Skill, SkillTree]:
    # As _tree_to_change, for the skill's tree.
    found = repository.find_skill(session, skill_id)
    if found is None or not may_view_tree(
        is_published=found[1].is_published, created_by=found[1].created_by, viewer=actor
    ):
        raise NotFound(f"No skill has the id {skill_id!r}.")
    if not _may_change(found[1], actor):
        raise Forbidden("Only the tree's author or an admin can change its skills.")
    if hold:
        found = (
            repository.find_skill(session, skill_id) if hold_tree(session, found[1].id) else None
        )
        if found is None:
            raise NotFound(f"No skill has the id {skill_id!r}.")
    trees_cache.forget_after_commit(session, found[1].id)
    return found


def _category(
    session: Session, slug: str | None, category_id: str | None, problems: list[FieldError]
) -> str | None:
    found = repository.category_id(session, slug=slug, id=category_id)
    if found is None:
        at, what = (
            ("categorySlug", f"slug {slug!r}") if slug else ("categoryId", f"id {category_id!r}")
        )
        problems.append(FieldError((at,), f"no category has the {what}", "unknown"))
    return found


def _check_documents(values: dict[str, Any], documents: Documents) -> list[FieldError]:
    # Every JSON column in `values` checked and normalised in place; the problems of all of them.
    problems: list[FieldError] = []
    for column, field, model in documents:
        if values.get(column) is not None:
            try:
                values[column] = validate_document(model, values[column], at=(field,))
            except InvalidInput as exc:
                problems += exc.errors
    return problems


def _check_dependencies(
    session: Session,
    tree_id: str,
    skill_id: str | None,
    dependencies: Sequence[str],
    problems: list[FieldError],
) -> list[str]:
    # The dependencies without repeats; a problem for each that is not another skill of the tree.
    in_tree = repository.skills_in_tree(session, tree_id, dependencies)
    for index, dependency in enumerate(dependencies):
        at = ("dependencies", index)
        if dependency == skill_id:
            problems.append(FieldError(at, "a skill cannot depend on itself", "self_reference"))
        elif dependency not in in_tree:
            problems.append(
                FieldError(at, f"no skill of this tree has the id {dependency!r}", "unknown")
            )
    return list(dict.fromkeys(dependencies))


def _parent_problems(
    session: Session, tree_id: str, skill_id: str | None, parent_id: str | None
) -> list[FieldError]:
    at = ("parentSkillId",)
    if parent_id is None:
        return []
    if not repository.skills_in_tree(session, tree_id, [parent_id]):
        return [FieldError(at, f"no skill of this tree has the id {parent_id!r}", "unknown")]
    if skill_id is not None and skill_id in repository.parent_chain(session, parent_id):
        return [FieldError(at, "a skill cannot be its own parent or ancestor", "self_reference")]
    return []


def _position(
    session: Session,
    tree: SkillTree,
    skill_id: str,
    dependencies: list[str],
    x: float | None,
    y: float | None,
) -> tuple[float, float]:
    # The coordinates given, and the missing ones from the skill's layer in the whole tree
    # (the other skills are never moved).
    if x is not None and y is not None:
        return x, y
    ids, pairs = repository.tree_edges(session, tree.id)
    needs: dict[str, list[str]] = defaultdict(list)
    for skill, prerequisite in pairs:
        needs[skill].append(prerequisite)
    needs[skill_id] = dependencies
    layout = tree.layout_config
    placed_x, placed_y = layered_positions(
        needs,
        [*ids, skill_id],
        level_height=float(layout.get("levelHeight", DEFAULT_LEVEL_HEIGHT)),
        node_spacing=float(layout.get("nodeSpacing", DEFAULT_NODE_SPACING)),
    )[skill_id]
    return (placed_x if x is None else x, placed_y if y is None else y)


def _flush(session: Session) -> None:
    # A taken slug or key, or a reference deleted meanwhile, comes back as a domain error; so
    # does the row being changed, when another request deleted it (its UPDATE waited for that
    # deletion's lock, then matched nothing).
    try:
        session.flush()
    except StaleDataError:
        raise NotFound("It was deleted by another request meanwhile.") from None
    except IntegrityError as error:
        refusal = _refusal(session, error)
        if refusal is None:
            raise
        raise refusal from None


def _write_edges(session: Session, write: Callable[[], None]) -> None:
    # In a savepoint of its own, so that after a refusal the session can still read the names
    # of the cycle's skills; the caller's savepoint (atomic) then undoes everything else.
    try:
        with session.begin_nested():
            write()
    except IntegrityError as error:
        refusal = _refusal(session, error)
        if refusal is None:
            raise
        raise refusal from None


def _refusal(session: Session, error: IntegrityError) -> SkillTreeError | None:
    constraint = violated_constraint(error) or ""
    if constraint in _TAKEN:
        field, message = _TAKEN[constraint]
        return AlreadyExists(
            message, errors=[FieldError((field,), "is already taken", "already_exists")]
        )
    if constraint in _GONE:
        return InvalidInput(
            _INVALID,
            errors=[FieldError((_GONE[constraint],), "names something just deleted", "unknown")],
        )
    if constraint in (SKILL_CYCLE, TREE_CYCLE):
        ids: list[str] = json.loads(error_detail(error) or "[]")
        names = (repository.skill_names if constraint == SKILL_CYCLE else repository.tree_names)(
            session, ids
        )
        cycle = [{"id": i, "name": names.get(i, i)} for i in ids]
        return DependencyCycle(
            "The prerequisites would form a cycle: "
            + " -> ".join(step["name"] for step in cycle)
            + ".",
            extra={"cycle": cycle},
        )
    return None
