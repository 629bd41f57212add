"""Import and export whole trees as tree files (docs/tree-format.md).

An import checks the whole file first and reports every problem at once, each at its place in the
file; only a file without problems is written, in bulk, inside the caller's transaction. Skills are
matched by key, so re-importing a tree updates it in place and learners keep their progress on
every skill that is still there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import RowMapping
from sqlalchemy.orm import Session

from skilltree.accounts import service as accounts
from skilltree.assessments import service as assessments
from skilltree.assessments.schemas import QuestionBank
from skilltree.cache import trees as trees_cache
from skilltree.catalog import tree_writes
from skilltree.catalog.tree_writes import hold_tree, tree_writer
from skilltree.db.base import new_ids
from skilltree.documents import (
    CompletionPolicy,
    LayoutConfig,
    SkillAssessments,
    SkillContent,
    SkillResources,
    ThemeConfig,
    default_completion_policy,
    validate_document,
)
from skilltree.errors import FieldError, Forbidden, InvalidInput, NotFound
from skilltree.graph.dag import find_cycle, layered_positions, learning_order
from skilltree.models import SkillTree, User, UserRole
from skilltree.reviews import repository as reviews
from skilltree.reviews.schemas import Rubric
from skilltree.storable import unstorable_text_in_json
from skilltree.treefile import repository
from skilltree.treefile.schemas import (
    Envelope,
    ImportSummary,
    Position,
    SkillEntry,
    TreeEntry,
    TreeFile,
)

ImportPhase = Literal["validate", "skills", "edges"]
IMPORT_PHASES: tuple[ImportPhase, ...] = ("validate", "skills", "edges")
MAX_CYCLES_REPORTED = 20
_INVALID = "The tree file is not valid; see `errors` for every problem."
_TREE_DOCUMENTS: tuple[tuple[str, type[BaseModel], type], ...] = (
    ("layoutConfig", LayoutConfig, dict),
    ("themeConfig", ThemeConfig, dict),
)
_SKILL_DOCUMENTS: tuple[tuple[str, type[BaseModel], type], ...] = (
    ("content", SkillContent, dict),
    ("resources", SkillResources, list),
    ("assessments", SkillAssessments, list),
    ("questionBank", QuestionBank, dict),
)


M = TypeVar("M", bound=BaseModel)


class MalformedTreeFile(InvalidInput):
    """The tree file is not valid JSON."""

    def __init__(
        self, message: str, *, position: int = 0, errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(message, errors=errors)
        self.position = position
        """Character offset of the problem in the file (when `errors` does not locate it)."""


@dataclass(frozen=True)
class ValidTree:
    """A tree file without problems, with the ids of the category and trees it names."""

    tree: TreeEntry
    skills: list[SkillEntry]
    category_id: str
    prerequisite_ids: list[str]


def parse_json(data: bytes | str) -> object:
    """The JSON value of `data`, or MalformedTreeFile saying where it stops being JSON, or where
    it holds text that PostgreSQL cannot store (a NUL character, a lone surrogate)."""
    try:
        value: object = json.loads(data, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise MalformedTreeFile(
            f"The tree file is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
            position=exc.pos,
        ) from None
    except UnicodeDecodeError:
        raise MalformedTreeFile("The tree file is not UTF-8 text.") from None
    except RecursionError:
        raise MalformedTreeFile("The tree file is nested too deeply.") from None
    except ValueError as exc:
        raise MalformedTreeFile(f"The tree file is not valid JSON: {exc}.") from None
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    found = unstorable_text_in_json(raw, value)
    if found:
        raise MalformedTreeFile("The tree file holds text that cannot be stored.", errors=found)
    return value


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def describe_location(loc: Sequence[str | int]) -> str:
    """A location as written in messages: ("skills", 12, "key") -> `skills[12].key`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(document)"


def validate_tree_file(session: Session, raw: object) -> ValidTree:
    """`raw` (parsed JSON) checked as a tree file, or InvalidInput listing every problem."""
    problems: list[FieldError] = []
    _parsed(Envelope, raw, (), problems)
    document = raw if isinstance(raw, dict) else {}
    tree_raw, skills_raw = document.get("tree"), document.get("skills")
    tree = None
    if isinstance(tree_raw, dict):
        tree = _parsed(TreeEntry, tree_raw, ("tree",), problems)
        _normalise_documents(tree, tree_raw, _TREE_DOCUMENTS, ("tree",), problems)
    skills: dict[int, SkillEntry] = {}
    unparsed_keys: set[str] = set()  # keys of skills with other problems: not "unknown" keys
    for index, item in enumerate(skills_raw if isinstance(skills_raw, list) else []):
        skill = _parsed(SkillEntry, item, ("skills", index), problems)
        if skill is not None:
            skills[index] = skill
        elif isinstance(item, dict) and isinstance(item.get("key"), str):
            unparsed_keys.add(item["key"])
        if isinstance(item, dict):
            _normalise_documents(skill, item, _SKILL_DOCUMENTS, ("skills", index), problems)
            _check_rubric(skill, item, ("skills", index), problems)
    problems += _graph_problems(skills, unparsed_keys)
    category_id: str | None = None
    prerequisite_ids: list[str] = []
    if tree is not None:
        category_id, prerequisite_ids = _check_references(session, tree, problems)
    if problems or tree is None or category_id is None:
        raise InvalidInput(_INVALID, errors=problems)
    return ValidTree(tree, list(skills.values()), category_id, prerequisite_ids)


def _parsed(
    model: type[M], value: object, at: tuple[str | int, ...], problems: list[FieldError]
) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems += [
            FieldError(
                loc=at + tuple(e["loc"]),
                # Pydantic would name our model class ("... or instance of SkillEntry").
                msg="Input should be a JSON object" if e["type"] == "model_type" else e["msg"],
                type=e["type"],
            )
            for e in exc.errors(include_url=False)
        ]
        return None


def _normalise_documents(
    entry: BaseModel | None,
    raw: dict[str, Any],
    documents: tuple[tuple[str, type[BaseModel], type], ...],
    at: tuple[str | int, ...],
    problems: list[FieldError],
) -> None:
    # Each JSON column against its own model (skilltree.documents), even when the entry has other
    # problems; the entry then holds the value as the column will store it.
    for field, model, json_type in documents:
        value = raw.get(field)
        if not isinstance(value, json_type):
            continue  # absent, null, or of the wrong JSON type: the entry model says so
        try:
            normalised = validate_document(model, value, at=(*at, field))
        except InvalidInput as exc:
            problems += exc.errors
        else:
            if entry is not None:
                setattr(entry, field, normalised)


def _check_rubric(
    entry: SkillEntry | None,
    raw: dict[str, Any],
    at: tuple[str | int, ...],
    problems: list[FieldError],
) -> None:
    # The rubric's shape (strict, as the rest of the file) and the rules `PUT /skills/{id}/rubric`
    # answers 400 for, each at its place; the entry then holds it as `project_rubrics` stores it.
    value = raw.get("rubric")
    if not isinstance(value, dict):
        return  # absent, null, or not an object: the entry model says so
    at = (*at, "rubric")
    try:
        rubric = Rubric.model_validate(value, strict=True)
    except ValidationError as exc:
        problems += [
            FieldError(loc=at + tuple(e["loc"]), msg=e["msg"], type=e["type"])
            for e in exc.errors(include_url=False)
        ]
        return
    broken = rubric.problems()
    problems += [FieldError(at + p.loc, p.msg, p.type) for p in broken]
    if entry is not None and not broken:
        entry.rubric = rubric.stored()


def _graph_problems(skills: Mapping[int, SkillEntry], unparsed_keys: set[str]) -> list[FieldError]:
    problems: list[FieldError] = []
    first_at: dict[str, int] = {}
    for index, skill in skills.items():
        if skill.key in first_at:
            problems.append(
                FieldError(
                    ("skills", index, "key"),
                    f'duplicate key "{skill.key}" (first at skills[{first_at[skill.key]}])',
                    "duplicate_key",
                )
            )
        else:
            first_at[skill.key] = index
    known = set(first_at) | unparsed_keys
    needs: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    for index, skill in skills.items():
        at: tuple[str | int, ...] = ("skills", index)
        seen: set[str] = set()
        for position, key in enumerate(skill.dependencies):
            problem = _reference_problem(skill.key, key, known, "depend on")
            if problem is None and key in seen:
                problem = (f'duplicate dependency "{key}"', "duplicate_dependency")
            if problem is not None:
                problems.append(FieldError((*at, "dependencies", position), *problem))
            seen.add(key)
        if skill.parent is not None:
            problem = _reference_problem(skill.key, skill.parent, known, "be grouped under")
            if problem is not None:
                problems.append(FieldError((*at, "parent"), *problem))
        if first_at.get(skill.key) == index:
            needs[skill.key] = [k for k in skill.dependencies if k in first_at and k != skill.key]
            if skill.parent in first_at and skill.parent != skill.key:
                parents[skill.key] = [skill.parent]
    for cycle in _cycles(needs):
        location = ("skills", first_at[cycle[0]], "dependencies")
        position = skills[first_at[cycle[0]]].dependencies.index(cycle[1])
        problems.append(FieldError((*location, position), _cycle_message(cycle), "cycle"))
    for cycle in _cycles(parents):
        problems.append(
            FieldError(
                ("skills", first_at[cycle[0]], "parent"), "parent " + _cycle_message(cycle), "cycle"
            )
        )
    return problems


def _reference_problem(own: str, key: str, known: set[str], verb: str) -> tuple[str, str] | None:
    if key == own:
        return (f"a skill cannot {verb} itself", "self_reference")
    if key not in known:
        return (f'unknown key "{key}"', "unknown_key")
    return None


def _cycles(needs: dict[str, list[str]]) -> list[list[str]]:
    # One cycle, then another once an edge of it is set aside, ...: each must be broken somewhere.
    found: list[list[str]] = []
    remaining = {key: list(keys) for key, keys in needs.items()}
    while len(found) < MAX_CYCLES_REPORTED and (cycle := find_cycle(remaining)) is not None:
        found.append(cycle)
        remaining[cycle[0]].remove(cycle[1])
    return found


def _cycle_message(cycle: list[str]) -> str:
    return "cycle: " + " -> ".join(cycle)


def _check_references(
    session: Session, tree: TreeEntry, problems: list[FieldError]
) -> tuple[str | None, list[str]]:
    category_id = repository.category_id(session, tree.category)
    if category_id is None:
        problems.append(
            FieldError(
                ("tree", "category"), f'unknown category "{tree.category}"', "unknown_category"
            )
        )
    ids = repository.tree_ids(session, tree.prerequisites)
    prerequisites: list[str] = []
    for position, slug in enumerate(tree.prerequisites):
        at = ("tree", "prerequisites", position)
        if slug == tree.slug:
            problems.append(FieldError(at, "a tree cannot need itself", "self_reference"))
        elif slug not in ids:
            problems.append(FieldError(at, f'unknown tree "{slug}"', "unknown_tree"))
        elif slug in prerequisites:
            problems.append(FieldError(at, f'duplicate prerequisite "{slug}"', "duplicate"))
        else:
            prerequisites.append(slug)
    # The trees' graph is acyclic, so a cycle the file would close runs through this tree.
    needs: dict[str, list[str]] = {tree.slug: prerequisites}
    for needer, needed in repository.reachable_tree_prerequisites(
        session, [ids[s] for s in prerequisites]
    ):
        if needer != tree.slug:
            needs.setdefault(needer, []).append(needed)
    cycle = find_cycle(needs)
    if cycle is not None:
        problems.append(FieldError(("tree", "prerequisites"), _cycle_message(cycle), "cycle"))
    return category_id, [ids[s] for s in prerequisites]


ANALYZE_THRESHOLD, ANALYZE_SCALE_FACTOR = 50, 0.1
"""An import that writes, in `skills` or in `skill_dependencies`, more than ANALYZE_THRESHOLD +
ANALYZE_SCALE_FACTOR x the rows the table had refreshes the planner's statistics once it has
committed: autovacuum's own default rule for analysing, without waiting for autovacuum."""


def _worth_analysing(written: int, estimated_rows: float) -> bool:
    return written > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * max(estimated_rows, 0)


@tree_writer
def import_tree(
    session: Session,
    data: bytes | str,
    *,
    author: User | None,
    publish: bool = False,
    on_phase: Callable[[ImportPhase], None] | None = None,
) -> ImportSummary:
    """Create or update (in place, skills matched by key) the tree of the tree file `data`.

    `author` None is the operator at the command line: no ownership check, no audit user. An
    author may only re-import a tree they created, an admin any tree. `publish` publishes the
    tree; without it a new tree is a draft and an existing one keeps its state. Flushes only.
    """
    step = on_phase or (lambda phase: None)
    step("validate")
    valid = validate_tree_file(session, parse_json(data))
    entry = valid.tree
    actor_id = author.id if author is not None else None
    repository.lock_slug(session, entry.slug)
    tree = repository.find_tree(session, entry.slug)
    if tree is not None and author is not None and not _may_change(tree, author):
        if not tree.is_published:
            # As GET and PATCH answer: a 403 would tell that someone's draft has this slug.
            raise NotFound(f"No skill tree has the slug {entry.slug!r}.")
        raise Forbidden(f"The tree {entry.slug!r} belongs to another author.")
    if tree is not None:
        # Its learners held before anything is written, recounted after (catalog.tree_writes).
        hold_tree(session, tree.id)  # (locked already: find_tree)
    tree_created = tree is None
    if tree is None:
        tree = SkillTree(slug=entry.slug, created_by=actor_id, is_published=publish)
        session.add(tree)
    tree.category_id = valid.category_id
    tree.name = entry.name
    tree.description = entry.description
    tree.short_description = entry.shortDescription
    tree.difficulty = entry.difficulty
    tree.estimated_hours = entry.estimatedHours
    tree.tags = list(entry.tags)
    tree.version = entry.version
    tree.layout_config = entry.layoutConfig
    tree.theme_config = entry.themeConfig
    tree.is_featured = entry.isFeatured
    tree.is_ai_generated = entry.isAiGenerated
    tree.is_published = tree.is_published or publish
    tree.updated_by = actor_id
    session.flush()
    if tree_created:
        tree_writes.tree_created(session, tree.id)
    trees_cache.forget_after_commit(session, tree.id)  # Redis copies go once this commits

    step("skills")
    estimated_skills, estimated_edges = repository.row_estimates(session)
    existing = repository.skill_ids_by_key(session, tree.id)
    old_edges = repository.edges_of(session, tree.id) if existing else set()
    fresh_ids = iter(new_ids(sum(s.key not in existing for s in valid.skills)))
    ids = {skill.key: existing.get(skill.key) or next(fresh_ids) for skill in valid.skills}
    placed = _placed(entry, valid.skills)
    rows = [_skill_row(skill, ids, placed, skill.key not in existing) for skill in valid.skills]
    created, changed, removed = repository.write_skills(
        session, tree.id, rows, actor_id, fresh=not existing
    )

    step("edges")
    edges = {(ids[s.key], ids[key]) for s in valid.skills for key in s.dependencies}
    stale, missing = old_edges - edges, edges - old_edges
    repository.delete_edges(session, stale)  # those of removed skills went with them already
    repository.insert_edges(session, tree.id, missing)
    repository.write_tree_prerequisites(session, tree.id, valid.prerequisite_ids)
    assessments.replace_tree_banks(
        session,
        tree.id,
        {
            ids[s.key]: QuestionBank.model_validate(s.questionBank)
            for s in valid.skills
            if s.questionBank is not None
        },
    )
    rubrics_changed = reviews.replace_tree_rubrics(
        session, tree.id, {ids[s.key]: s.rubric for s in valid.skills if s.rubric is not None}
    )
    session.flush()
    if _worth_analysing(created + len(changed) + removed, estimated_skills) or _worth_analysing(
        len(stale) + len(missing), estimated_edges
    ):
        repository.analyze_catalog_after_commit(session)
    kept = set(existing.values()) & set(ids.values())
    updated = len(changed | ({skill for skill, _ in stale | missing} | rubrics_changed) & kept)
    return ImportSummary(
        slug=tree.slug,
        tree_created=tree_created,
        is_published=tree.is_published,
        created=created,
        updated=updated,
        unchanged=len(valid.skills) - created - updated,
        removed=removed,
        dependencies=len(edges),
    )


def user_by_email(session: Session, email: str) -> User:
    """The user with this email (any case), to import as from the command line, or NotFound."""
    user = accounts.find_user(session, email)
    if user is None:
        raise NotFound(f"No user has the email {email!r}.")
    return user


def _may_change(tree: SkillTree, user: User) -> bool:
    return user.role is UserRole.ADMIN or tree.created_by == user.id


def _placed(tree: TreeEntry, skills: list[SkillEntry]) -> dict[str, tuple[float, float]]:
    # Skills without a position are placed by layer: layer -> y, order in the layer -> x.
    if all(skill.position is not None for skill in skills):
        return {}
    spacing = {
        name: tree.layoutConfig[key]
        for name, key in (("level_height", "levelHeight"), ("node_spacing", "nodeSpacing"))
        if key in tree.layoutConfig
    }
    needs = {skill.key: skill.dependencies for skill in skills}
    return layered_positions(needs, list(needs), **spacing)


def _skill_row(
    skill: SkillEntry, ids: dict[str, str], placed: dict[str, tuple[float, float]], is_new: bool
) -> repository.SkillRow:
    x, y = (skill.position.x, skill.position.y) if skill.position else placed[skill.key]
    return (
        ids[skill.key],
        skill.key,
        ids[skill.parent] if skill.parent is not None else None,
        skill.name,
        skill.shortName,
        skill.description,
        skill.learningObjectives,
        skill.skillType.value,
        skill.difficulty.value,
        skill.estimatedMinutes,
        skill.xpValue,
        x,
        y,
        skill.nodeSize,
        skill.content,
        skill.resources,
        skill.assessments,
        # The default here rather than from the database's trigger: the import compares each
        # skill with the file's, and writes a large tree without calling the trigger per row.
        skill.completionPolicy.model_dump(mode="json")
        if skill.completionPolicy is not None
        else default_completion_policy(skill.assessments),
        skill.isActive,
        skill.isOptional,
        skill.isMilestone,
        is_new,
    )


def export_tree(
    session: Session, slug: str, *, viewer: User | None, operator: bool = False
) -> TreeFile:
    """The tree `slug` as a tree file: skills in learning order, ties by (y, x, key).

    A published tree is anyone's to export; a draft only its author's or an admin's (others get
    NotFound, as if it did not exist). `operator` (the command line) may export any tree.
    """
    found = repository.tree_with_category(session, slug)
    if found is None or not (operator or _may_read(found[0], viewer)):
        raise NotFound(f"No skill tree you can export has the slug {slug!r}.")
    tree, category_slug = found
    skills = {row["key"]: row for row in repository.exported_skills(session, tree.id)}
    needs: dict[str, list[str]] = {key: [] for key in skills}
    for needer, needed in repository.dependency_keys(session, tree.id):
        needs[needer].append(needed)

    def tie_break(key: str) -> tuple[float, float, str]:
        return (skills[key]["position_y"], skills[key]["position_x"], key)

    banks = assessments.tree_banks(session, tree.id, viewer, operator=operator)
    rubrics = reviews.tree_rubrics(session, tree.id)
    entries = [
        _skill_entry(skills[key], sorted(needs[key]), banks.get(key), rubrics.get(key))
        for key in learning_order(needs, tie_break)
    ]
    return TreeFile(
        tree=TreeEntry(
            slug=tree.slug,
            name=tree.name,
            category=category_slug,
            description=tree.description,
            shortDescription=tree.short_description,
            difficulty=tree.difficulty,
            estimatedHours=tree.estimated_hours,
            tags=tree.tags,
            version=tree.version,
            layoutConfig=tree.layout_config,
            themeConfig=tree.theme_config,
            isFeatured=tree.is_featured,
            isAiGenerated=tree.is_ai_generated,
            prerequisites=repository.prerequisite_slugs(session, tree.id),
        ),
        skills=entries,
    )


def _may_read(tree: SkillTree, viewer: User | None) -> bool:
    return tree.is_published or (viewer is not None and _may_change(tree, viewer))


def _skill_entry(
    row: RowMapping,
    dependencies: list[str],
    bank: QuestionBank | None,
    rubric: dict[str, Any] | None,
) -> SkillEntry:
    return SkillEntry(
        key=row["key"],
        name=row["name"],
        shortName=row["short_name"],
        description=row["description"],
        learningObjectives=row["learning_objectives"],
        skillType=row["skill_type"],
        difficulty=row["difficulty"],
        estimatedMinutes=row["estimated_minutes"],
        xpValue=row["xp_value"],
        dependencies=dependencies,
        parent=row["parent_key"],
        position=Position(x=row["position_x"], y=row["position_y"]),
        nodeSize=row["node_size"],
        content=row["content"],
        resources=row["resources"],
        assessments=row["assessments"],
        completionPolicy=CompletionPolicy.model_validate(row["completion_policy"]),
        questionBank=bank.model_dump(mode="json", by_alias=True, exclude_none=True)
        if bank is not None
        else None,
        rubric=Rubric.model_validate(rubric).stored() if rubric is not None else None,
        isActive=row["is_active"],
        isOptional=row["is_optional"],
        isMilestone=row["is_milestone"],
    )
