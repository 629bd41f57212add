"""Importing a tree file creates the tree, or updates it in place with skills matched by key."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.db.session import unit_of_work
from skilltree.errors import Forbidden, NotFound
from skilltree.models import (
    Skill,
    SkillCategory,
    SkillDependency,
    SkillProgressStatus,
    SkillTree,
    User,
    UserRole,
    UserSkillProgress,
)
from skilltree.treefile import repository, service
from skilltree.treefile.schemas import ImportSummary
from tests.committed import committed_rows
from tests.factories import make_category, make_tree
from tests.treefile.conftest import MakeUser
from tests.treefile.sample import canonical_file, encode, skill, tree_file


def import_file(
    session: Session, document: dict[str, Any], *, author: User | None = None, publish: bool = False
) -> ImportSummary:
    """Import `document`, as the operator unless `author` is given."""
    return service.import_tree(session, encode(document), author=author, publish=publish)


def skills_by_key(session: Session) -> dict[str, Skill]:
    """Every skill in the database, by key (the tests hold one tree)."""
    session.expire_all()
    return {s.key: s for s in session.scalars(select(Skill))}


def edges(session: Session) -> set[tuple[str, str]]:
    """Every dependency edge as (skill key, prerequisite key)."""
    by_id = {s.id: s.key for s in skills_by_key(session).values()}
    rows = session.execute(select(SkillDependency.skill_id, SkillDependency.depends_on_id))
    return {(by_id[a], by_id[b]) for a, b in rows.tuples()}


def add_progress(session: Session, user_id: str, skill: Skill) -> str:
    """A learner's progress row on `skill`; returns its id."""
    row = UserSkillProgress(
        user_id=user_id,
        skill_id=skill.id,
        skill_tree_id=skill.skill_tree_id,
        status=SkillProgressStatus.IN_PROGRESS,
        progress_percent=40,
    )
    session.add(row)
    session.flush()
    return row.id


def test_a_new_tree_is_created_with_its_skills_and_edges(
    session: Session, category: SkillCategory, make_user: MakeUser
) -> None:
    author = make_user(UserRole.AUTHOR)
    summary = import_file(session, canonical_file(), author=author)
    assert summary.model_dump() == {
        "slug": "frontend",
        "tree_created": True,
        "is_published": False,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "dependencies": 5,
    }
    tree = session.scalars(select(SkillTree)).one()
    assert (tree.category_id, tree.created_by, tree.updated_by) == (
        category.id,
        author.id,
        author.id,
    )
    assert tree.layout_config == {"theme": "modern", "nodeSpacing": 220, "levelHeight": 200}
    skills = skills_by_key(session)
    assert skills["semantics"].parent_skill_id == skills["html"].id
    assert skills["react"].content is not None
    assert skills["react"].assessments is None
    assert skills["legacy"].is_active is False
    assert {s.created_by for s in skills.values()} == {author.id}
    assert edges(session) == {
        ("css", "html"),
        ("semantics", "html"),
        ("js", "html"),
        ("react", "css"),
        ("react", "js"),
    }


def test_skills_without_position_are_placed_by_layer(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file(
        [
            skill("a"),
            skill("b"),
            skill("c", "a", "b"),
            skill("d", "c", position={"x": 7, "y": -3.5}),
        ],
        layoutConfig={"levelHeight": 100, "nodeSpacing": 50},
    )
    import_file(session, document)
    placed = {k: (s.position_x, s.position_y) for k, s in skills_by_key(session).items()}
    assert placed == {"a": (0, 0), "b": (50, 0), "c": (0, 100), "d": (7, -3.5)}


def test_default_spacing_without_layout_config(session: Session, category: SkillCategory) -> None:
    import_file(session, tree_file([skill("a"), skill("b"), skill("c", "a")]))
    placed = {k: (s.position_x, s.position_y) for k, s in skills_by_key(session).items()}
    assert placed == {"a": (0, 0), "b": (220, 0), "c": (0, 200)}


def test_reimport_updates_in_place_and_keeps_progress_of_surviving_skills(
    session: Session, category: SkillCategory, make_user: MakeUser
) -> None:
    author, learner = make_user(UserRole.AUTHOR), make_user(UserRole.LEARNER)
    import_file(session, canonical_file(), author=author)
    before = skills_by_key(session)
    kept_progress = add_progress(session, learner.id, before["css"])
    add_progress(session, learner.id, before["js"])

    document = canonical_file()
    document["tree"]["name"] = "Frontend, second edition"
    document["skills"] = [s for s in document["skills"] if s["key"] != "js"]
    document["skills"][1]["name"] = "CSS, revised"  # css
    document["skills"][3]["dependencies"] = ["css", "ts"]  # react
    document["skills"].append(skill("ts", "html"))
    summary = import_file(session, document, author=author)

    assert (summary.tree_created, summary.created, summary.updated, summary.removed) == (
        False,
        1,
        2,
        1,
    )
    assert summary.unchanged == 3
    after = skills_by_key(session)
    assert set(after) == {"html", "css", "semantics", "react", "legacy", "ts"}
    for key in ("html", "css", "semantics", "react", "legacy"):
        assert after[key].id == before[key].id
    assert after["css"].name == "CSS, revised"
    assert after["html"].updated_at == before["html"].updated_at  # unchanged rows not touched
    assert edges(session) == {
        ("css", "html"),
        ("semantics", "html"),
        ("ts", "html"),
        ("react", "css"),
        ("react", "ts"),
    }
    progress = {row.id: row for row in session.scalars(select(UserSkillProgress))}
    assert set(progress) == {kept_progress}  # js's row went with js, by cascade
    assert progress[kept_progress].skill_id == before["css"].id
    assert progress[kept_progress].progress_percent == 40
    assert session.scalar(select(SkillTree.name)) == "Frontend, second edition"


def test_reimporting_the_same_file_changes_nothing(
    session: Session, category: SkillCategory
) -> None:
    import_file(session, canonical_file())
    before = {k: (s.id, s.updated_at) for k, s in skills_by_key(session).items()}
    summary = import_file(session, canonical_file())
    assert (summary.created, summary.updated, summary.unchanged, summary.removed) == (0, 0, 6, 0)
    assert {k: (s.id, s.updated_at) for k, s in skills_by_key(session).items()} == before


def test_a_key_can_move_to_a_new_skill_while_others_are_removed(
    session: Session, category: SkillCategory
) -> None:
    import_file(session, tree_file([skill("a"), skill("b", "a"), skill("c", "b")]))
    summary = import_file(session, tree_file([skill("c"), skill("b", "c"), skill("d", "b")]))
    assert (summary.created, summary.updated, summary.removed) == (1, 2, 1)
    assert edges(session) == {("b", "c"), ("d", "b")}


def test_publish_publishes_and_reimport_keeps_the_state(
    session: Session, category: SkillCategory
) -> None:
    assert import_file(session, tree_file([skill("a")])).is_published is False
    assert import_file(session, tree_file([skill("a")]), publish=True).is_published is True
    assert import_file(session, tree_file([skill("a")])).is_published is True


def test_tree_prerequisites_are_replaced(session: Session, category: SkillCategory) -> None:
    make_tree(session, category, slug="html-basics")
    make_tree(session, category, slug="css-basics")
    import_file(session, tree_file([], prerequisites=["html-basics", "css-basics"]))
    exported = service.export_tree(session, "frontend", viewer=None, operator=True)
    assert exported.tree.prerequisites == ["css-basics", "html-basics"]
    import_file(session, tree_file([], prerequisites=["css-basics"]))
    exported = service.export_tree(session, "frontend", viewer=None, operator=True)
    assert exported.tree.prerequisites == ["css-basics"]


def test_only_the_creator_or_an_admin_may_reimport(
    session: Session, category: SkillCategory, make_user: MakeUser
) -> None:
    owner, other, admin = (
        make_user(UserRole.AUTHOR),
        make_user(UserRole.AUTHOR),
        make_user(UserRole.ADMIN),
    )
    import_file(session, canonical_file(), author=owner)
    changed = canonical_file()
    changed["tree"]["name"] = "Taken over"
    with pytest.raises(NotFound):  # a draft: as if it did not exist
        import_file(session, changed, author=other)
    session.execute(update(SkillTree).values(is_published=True))
    with pytest.raises(Forbidden):  # published: everyone sees it is someone else's
        import_file(session, changed, author=other)
    assert session.scalar(select(SkillTree.name)) == "Frontend Web Development"
    import_file(session, changed, author=admin)
    tree = session.scalars(select(SkillTree)).one()
    assert (tree.name, tree.created_by, tree.updated_by) == ("Taken over", owner.id, admin.id)


def test_a_tree_of_many_skills_is_one_statement_per_table(
    session: Session, category: SkillCategory
) -> None:
    # Enough edges for the trigger's whole-tree check (more than 32 in one statement).
    skills = [skill(f"s{i}", *([f"s{i - 1}", f"s{i // 2}"] if i > 1 else [])) for i in range(300)]
    skills[1]["dependencies"], skills[2]["dependencies"] = ["s0"], ["s1", "s0"]
    summary = import_file(session, tree_file(skills))
    assert (summary.created, summary.dependencies) == (300, 597)
    assert session.scalar(select(func.count()).select_from(SkillDependency)) == 597


def test_a_reimport_failing_midway_leaves_the_tree_as_it_was(
    session: Session, category: SkillCategory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(session, canonical_file())
    before = service.export_tree(session, "frontend", viewer=None, operator=True)
    changed = canonical_file()
    changed["tree"]["name"] = "Half-written"
    changed["skills"] = [skill("only")]

    def broken(*args: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(repository, "insert_edges", broken)
    with pytest.raises(RuntimeError), session.begin_nested():  # the caller's unit of work
        import_file(session, changed)
    session.expire_all()
    assert service.export_tree(session, "frontend", viewer=None, operator=True) == before


def test_a_large_import_refreshes_the_planners_statistics_once_committed(
    engine: Engine,
) -> None:
    """More rows than autovacuum's analyse rule (50 + 10% of the table): once the import has
    committed, the statistics of `skills` count its rows (analysed in a transaction of its
    own)."""
    estimate = text("SELECT reltuples FROM pg_class WHERE oid = 'skills'::regclass")
    with unit_of_work(engine) as session:
        category = make_category(session, name="Web Dev", slug=f"web-dev-{uuid.uuid4().hex[:8]}")
        before = session.scalar(estimate) or 0
        size = 60 + int(0.1 * max(before, 0))
        document = tree_file(
            [skill(f"s{n}") for n in range(size)], slug="analysed", category=category.slug
        )
        import_file(session, document)
    try:
        with engine.connect() as connection:
            skills = connection.scalar(select(func.count()).select_from(Skill))
            assert connection.scalar(estimate) == skills
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM skill_trees WHERE slug = 'analysed'"))
            forget = text("DELETE FROM skill_categories WHERE id = :c")
            connection.execute(forget, {"c": category.id})


def test_a_small_import_leaves_the_statistics_to_autovacuum(engine: Engine) -> None:
    """Far fewer rows than autovacuum's rule: once the import has committed, the planner's row
    count of `skills` is still the last analysis's, though the table has two more rows."""
    estimate = text("SELECT reltuples FROM pg_class WHERE oid = 'skills'::regclass")
    count = select(func.count()).select_from(Skill)
    with committed_rows(engine) as session:
        category = make_category(session, name="Web Dev", slug=f"web-dev-{uuid.uuid4().hex[:8]}")
        session.commit()
        session.execute(text("ANALYZE skills"))
        before = session.scalar(estimate)
        assert before == session.scalar(count)  # a small table is analysed whole: exact
        slug = f"small-{uuid.uuid4().hex[:8]}"
        import_file(
            session,
            tree_file([skill("html"), skill("css", "html")], slug=slug, category=category.slug),
        )
        session.commit()
        with engine.connect() as connection:
            assert connection.scalar(count) == before + 2
            assert connection.scalar(estimate) == before


def test_the_api_role_may_refresh_the_catalogs_statistics(session: Session) -> None:
    """The API imports as skilltree_app, which does not own the tables: analyze_catalog() runs
    as their owner (and analyses nothing else)."""
    act_as_learner(session, None)
    session.execute(text("SELECT analyze_catalog()"))
    act_as_owner(session)
