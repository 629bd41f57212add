"""A tree file is checked whole before anything is written; every problem comes back located."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skilltree.errors import FieldError, InvalidInput
from skilltree.models import Skill, SkillCategory, SkillTree
from skilltree.treefile import service
from tests.factories import make_tree
from tests.treefile.sample import canonical_file, encode, skill, tree_file


def problems(session: Session, document: Any) -> list[tuple[str, str]]:
    """(location, message) of every problem an import of `document` reports."""
    with pytest.raises(InvalidInput) as caught:
        service.import_tree(session, encode(document), author=None)
    return [(service.describe_location(e.loc), e.msg) for e in caught.value.errors]


def errors(session: Session, document: Any) -> list[FieldError]:
    """The FieldErrors an import of `document` reports."""
    with pytest.raises(InvalidInput) as caught:
        service.import_tree(session, encode(document), author=None)
    return caught.value.errors


def test_a_valid_file_passes(session: Session, category: SkillCategory) -> None:
    valid = service.validate_tree_file(session, canonical_file())
    assert [s.key for s in valid.skills] == ["html", "css", "semantics", "js", "react", "legacy"]
    assert valid.category_id == category.id


def test_unknown_dependency_key_is_located(session: Session, category: SkillCategory) -> None:
    document = tree_file([skill("html"), skill("js", "html", "css")])
    [error] = errors(session, document)
    assert error.loc == ("skills", 1, "dependencies", 1)
    assert error.msg == 'unknown key "css"'
    assert error.type == "unknown_key"


def test_duplicate_key_names_the_first(session: Session, category: SkillCategory) -> None:
    document = tree_file([skill("a"), skill("html"), skill("b"), skill("html")])
    assert problems(session, document) == [
        ("skills[3].key", 'duplicate key "html" (first at skills[1])')
    ]


def test_self_and_repeated_dependencies(session: Session, category: SkillCategory) -> None:
    document = tree_file([skill("a"), skill("b", "b", "a", "a")])
    assert problems(session, document) == [
        ("skills[1].dependencies[0]", "a skill cannot depend on itself"),
        ("skills[1].dependencies[2]", 'duplicate dependency "a"'),
    ]


def test_cycle_is_spelt_out_at_its_first_edge(session: Session, category: SkillCategory) -> None:
    document = tree_file([skill("root"), skill("a", "root", "b"), skill("b", "c"), skill("c", "a")])
    [error] = errors(session, document)
    assert error.loc == ("skills", 1, "dependencies", 1)
    assert error.msg == "cycle: a -> b -> c -> a"
    assert error.type == "cycle"


def test_each_independent_cycle_is_reported(session: Session, category: SkillCategory) -> None:
    document = tree_file([skill("a", "b"), skill("b", "a"), skill("x", "y"), skill("y", "x")])
    assert problems(session, document) == [
        ("skills[0].dependencies[0]", "cycle: a -> b -> a"),
        ("skills[2].dependencies[0]", "cycle: x -> y -> x"),
    ]


def test_parent_must_be_another_known_skill_without_cycles(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file(
        [
            skill("a", parent="a"),
            skill("b", parent="nope"),
            skill("c", parent="d"),
            skill("d", parent="c"),
        ]
    )
    assert problems(session, document) == [
        ("skills[0].parent", "a skill cannot be grouped under itself"),
        ("skills[1].parent", 'unknown key "nope"'),
        ("skills[2].parent", "parent cycle: c -> d -> c"),
    ]


def test_unknown_category_and_prerequisite_trees(session: Session, category: SkillCategory) -> None:
    make_tree(session, category, slug="html-basics")
    document = tree_file(
        [skill("a")],
        category="cooking",
        prerequisites=["html-basics", "nope", "frontend", "html-basics"],
    )
    assert problems(session, document) == [
        ("tree.category", 'unknown category "cooking"'),
        ("tree.prerequisites[1]", 'unknown tree "nope"'),
        ("tree.prerequisites[2]", "a tree cannot need itself"),
        ("tree.prerequisites[3]", 'duplicate prerequisite "html-basics"'),
    ]


def test_prerequisite_trees_must_not_close_a_cycle(
    session: Session, category: SkillCategory
) -> None:
    service.import_tree(session, encode(tree_file([], slug="frontend")), author=None)
    service.import_tree(
        session, encode(tree_file([], slug="react", prerequisites=["frontend"])), author=None
    )
    document = tree_file([], slug="frontend", prerequisites=["react"])
    assert problems(session, document) == [
        ("tree.prerequisites", "cycle: frontend -> react -> frontend")
    ]


def test_shapes_and_json_columns_are_checked_with_their_models(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file(
        [
            skill("ok"),
            skill(
                "bad",
                xpValue="10",
                skillType="WIZARDRY",
                nodeSize=4,
                content={"type": "simple", "modules": [{"title": "x"}]},
                resources=[{"type": "link", "title": "t", "url": "javascript:alert(1)"}],
                colour="red",
            ),
            {"name": "no key"},
            "not an object",
        ],
        layoutConfig={"nodeSpacing": -1},
        themeConfig={"primaryColor": "blue"},
        difficulty="EASY",
    )
    found = {(service.describe_location(e.loc), e.type) for e in errors(session, document)}
    assert found == {
        ("tree.difficulty", "enum"),
        ("tree.layoutConfig.nodeSpacing", "greater_than"),
        ("tree.themeConfig.primaryColor", "string_pattern_mismatch"),
        ("skills[1].xpValue", "int_type"),
        ("skills[1].skillType", "enum"),
        ("skills[1].nodeSize", "less_than_equal"),
        ("skills[1].colour", "extra_forbidden"),
        ("skills[1].content.modules[0].type", "missing"),
        ("skills[1].content.modules[0].estimatedMinutes", "missing"),
        ("skills[1].content.modules[0].resources", "missing"),
        ("skills[1].resources[0].url", "url_scheme"),
        ("skills[2].key", "missing"),
        ("skills[3]", "model_type"),
    }


def test_json_columns_are_normalised_as_stored(session: Session, category: SkillCategory) -> None:
    document = tree_file(
        [
            skill(
                "a",
                content={"type": "simple", "modules": [{"title": "x"}]},
                resources=[{"type": "link", "title": "t", "url": "javascript:alert(1)"}],
                assessments=[{"type": "quiz", "title": "q", "passingScore": 101}],
            )
        ]
    )
    locations = {service.describe_location(e.loc) for e in errors(session, document)}
    assert {
        "skills[0].content.modules[0].type",
        "skills[0].content.modules[0].estimatedMinutes",
        "skills[0].resources[0].url",
        "skills[0].assessments[0].passingScore",
    } <= locations


def test_envelope_format_and_version(session: Session, category: SkillCategory) -> None:
    document = tree_file([skill("a")]) | {"format": "other", "version": 2, "extra": 1}
    assert {service.describe_location(e.loc) for e in errors(session, document)} == {
        "format",
        "version",
        "extra",
    }
    assert problems(session, [1]) == [("(document)", "Input should be a JSON object")]


def test_every_problem_is_reported_at_once_and_nothing_is_written(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file(
        [
            skill("html"),
            skill("css", "html", "sass"),
            skill("html"),
            skill("js", "js"),
            skill("a", "b"),
            skill("b", "a"),
            skill("bad key!"),
        ],
        category="cooking",
        prerequisites=["nope"],
    )
    assert problems(session, document) == [
        ("skills[6].key", "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$'"),
        ("skills[2].key", 'duplicate key "html" (first at skills[0])'),
        ("skills[1].dependencies[1]", 'unknown key "sass"'),
        ("skills[3].dependencies[0]", "a skill cannot depend on itself"),
        ("skills[4].dependencies[0]", "cycle: a -> b -> a"),
        ("tree.category", 'unknown category "cooking"'),
        ("tree.prerequisites[0]", 'unknown tree "nope"'),
    ]
    assert session.scalar(select(func.count()).select_from(SkillTree)) == 0
    assert session.scalar(select(func.count()).select_from(Skill)) == 0


def test_a_refused_reimport_changes_nothing(session: Session, category: SkillCategory) -> None:
    service.import_tree(session, encode(canonical_file()), author=None)
    before = session.execute(select(Skill.id, Skill.key, Skill.name).order_by(Skill.key)).all()
    broken = canonical_file()
    broken["tree"]["name"] = "Renamed"
    broken["skills"][0]["name"] = "Renamed"
    broken["skills"][1]["dependencies"] = ["nope"]
    with pytest.raises(InvalidInput):
        service.import_tree(session, encode(broken), author=None)
    session.expire_all()
    assert session.scalar(select(SkillTree.name)) == "Frontend Web Development"
    assert (
        session.execute(select(Skill.id, Skill.key, Skill.name).order_by(Skill.key)).all() == before
    )


def test_text_that_cannot_be_stored_is_refused_where_it_is(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file(
        [skill("a", "\ud800", description="a\x00b", learningObjectives=["ok", "\x00"])],
        name="\udfff tree",
    )
    assert problems(session, document) == [
        ("tree.name", "must be valid Unicode (a lone surrogate cannot be stored)"),
        ("skills[0].dependencies[0]", "must be valid Unicode (a lone surrogate cannot be stored)"),
        ("skills[0].description", "must not contain NUL characters"),
        ("skills[0].learningObjectives[1]", "must not contain NUL characters"),
    ]


def test_a_parsed_document_with_a_nul_is_refused_too(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file([skill("a", description="a\x00b")])
    with pytest.raises(InvalidInput) as caught:
        service.validate_tree_file(session, document)
    assert [(service.describe_location(e.loc), e.msg) for e in caught.value.errors] == [
        ("skills[0].description", "Value error, must not contain NUL characters")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"format": ', "The tree file is not valid JSON: Expecting value at line 1 column 12."),
        (b'{"x": NaN}', "The tree file is not valid JSON: NaN is not a JSON number."),
        (b"\xff\xfe\xfa", "The tree file is not UTF-8 text."),
    ],
)
def test_malformed_json_says_where(session: Session, data: bytes, message: str) -> None:
    with pytest.raises(service.MalformedTreeFile) as caught:
        service.import_tree(session, data, author=None)
    assert caught.value.message == message


def test_locations_read_like_paths() -> None:
    assert service.describe_location(("skills", 12, "dependencies", 0)) == (
        "skills[12].dependencies[0]"
    )
    assert service.describe_location(()) == "(document)"
