"""Grading of every question kind, with tricky input (assessment_answer_correct in SQL, and
short answers normalised by the API as their keys were)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.assessments.schemas import QuestionBank, normal_text

SINGLE = {"correct": "b"}
MULTI = {"correct": ["a", "c"]}
NUMBER = {"value": 1.5, "tolerance": 0.01}
THOUSAND = {"value": 1000, "tolerance": 0}
ORDER = {"order": ["x", "y", "z"]}
TEXT = {"accepted": ["strasse 1", "42nd street"], "pattern": None}
PATTERN = {"accepted": [], "pattern": "colou?r"}


def correct(session: Session, kind: str, key: dict[str, Any], answer: Any) -> bool:
    return bool(
        session.execute(
            text("SELECT assessment_answer_correct(:kind, CAST(:key AS jsonb), CAST(:a AS jsonb))"),
            {"kind": kind, "key": json.dumps(key), "a": json.dumps(answer)},
        ).scalar_one()
    )


@pytest.mark.parametrize(
    ("kind", "key", "answer", "expected"),
    [
        ("SINGLE_CHOICE", SINGLE, "b", True),
        ("SINGLE_CHOICE", SINGLE, "a", False),
        ("SINGLE_CHOICE", SINGLE, ["b"], False),
        ("SINGLE_CHOICE", SINGLE, "", False),
        ("SINGLE_CHOICE", SINGLE, None, False),
        ("MULTIPLE_CHOICE", MULTI, ["c", "a"], True),
        ("MULTIPLE_CHOICE", MULTI, ["a"], False),
        ("MULTIPLE_CHOICE", MULTI, ["a", "c", "b"], False),
        ("MULTIPLE_CHOICE", MULTI, ["a", "a", "c"], False),
        ("MULTIPLE_CHOICE", MULTI, [], False),
        ("MULTIPLE_CHOICE", MULTI, "a", False),
        ("NUMERIC", NUMBER, 1.5, True),
        ("NUMERIC", NUMBER, "1,5", True),
        ("NUMERIC", NUMBER, " 1.505 ", True),
        ("NUMERIC", NUMBER, "1.52", False),
        ("NUMERIC", NUMBER, "15e-1", True),
        ("NUMERIC", NUMBER, "\uff11.\uff15", True),  # full-width digits: NFKC
        ("NUMERIC", NUMBER, "1.5.1", False),
        ("NUMERIC", NUMBER, "one and a half", False),
        ("NUMERIC", NUMBER, "", False),
        ("NUMERIC", NUMBER, "   ", False),
        ("NUMERIC", NUMBER, "NaN", False),
        ("NUMERIC", NUMBER, "Infinity", False),
        ("NUMERIC", NUMBER, "1e99999", False),  # no overflow: not a number we read
        ("NUMERIC", THOUSAND, "1e3", True),
        ("NUMERIC", THOUSAND, " 1E+3 ", True),
        ("NUMERIC", THOUSAND, 1000, True),
        ("NUMERIC", THOUSAND, "1000.0", True),
        ("NUMERIC", THOUSAND, "+1000", True),
        ("NUMERIC", THOUSAND, "-1000", False),
        ("NUMERIC", THOUSAND, True, False),
        ("ORDERING", ORDER, ["x", "y", "z"], True),
        ("ORDERING", ORDER, ["x", "z", "y"], False),
        ("ORDERING", ORDER, ["x", "y"], False),
        ("ORDERING", ORDER, [], False),
        ("SHORT_TEXT", TEXT, "strasse 1", True),
        ("SHORT_TEXT", TEXT, "  42nd \t  street ", True),
        ("SHORT_TEXT", TEXT, "42ND STREET", True),
        ("SHORT_TEXT", TEXT, "42\u00a0nd street", False),
        ("SHORT_TEXT", TEXT, "42nd\u3000street", True),  # ideographic space: NFKC
        ("SHORT_TEXT", TEXT, "", False),
        ("SHORT_TEXT", TEXT, 42, False),
        ("SHORT_TEXT", PATTERN, "color", True),
        ("SHORT_TEXT", PATTERN, "colour", True),
        ("SHORT_TEXT", PATTERN, "the colour", False),  # the whole answer must match
        ("SHORT_TEXT", {"accepted": [], "pattern": "(("}, "((", False),  # a bad pattern: wrong
        ("UNKNOWN", SINGLE, "b", False),
    ],
)
def test_each_kind_is_graded_as_its_key_says(
    session: Session, kind: str, key: dict[str, Any], answer: Any, expected: bool
) -> None:
    assert correct(session, kind, key, answer) is expected


def test_no_key_grades_every_answer_wrong(session: Session) -> None:
    assert (
        session.execute(
            text("SELECT assessment_answer_correct('SINGLE_CHOICE', NULL, '\"b\"')")
        ).scalar_one()
        is False
    )


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("  Straße  1 ", "strasse 1"),  # case-folded, not only lower-cased
        ("\uff28\uff34\uff2d\uff2c", "html"),  # full-width letters: NFKC
        ("\ufb01le", "file"),  # a ligature: NFKC
        ("e\u0301", "é"),  # a combining accent: composed
        ("a\u00a0\tb\n c", "a b c"),
        ("", ""),
        ("İstanbul", "i̇stanbul"),
    ],
)
def test_short_answers_are_normalised_as_their_keys(written: str, normal: str) -> None:
    assert normal_text(written) == normal


def test_the_sql_normalisation_agrees_on_what_the_api_sends(session: Session) -> None:
    for written in ("  Straße  1 ", "\uff28\uff34\uff2d\uff2c", "e\u0301", "a\u00a0\tb\n c"):
        once = normal_text(written)
        again = session.execute(text("SELECT assessment_normal_text(:t)"), {"t": once}).scalar_one()
        assert again == once


def bank_with(question: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"settings": settings, "questions": [{"id": "q", "prompt": "?", **question}]}


@pytest.mark.parametrize(
    "question",
    [
        {"kind": "SINGLE_CHOICE", "options": [{"id": "a", "text": "A"}], "correct": "a"},
        {
            "kind": "SINGLE_CHOICE",
            "options": [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}],
            "correct": "a",
        },
        {
            "kind": "MULTIPLE_CHOICE",
            "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
            "correct": [],
        },
        {
            "kind": "MULTIPLE_CHOICE",
            "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
            "correct": ["a", "a"],
        },
        {"kind": "NUMERIC", "answer": 1, "tolerance": -1},
        {"kind": "SHORT_TEXT", "accepted": []},
        {"kind": "SHORT_TEXT", "accepted": ["   "]},
        {"kind": "SHORT_TEXT", "pattern": "(("},
        {"kind": "ORDERING", "options": [{"id": "a", "text": "A"}]},
        {"kind": "ESSAY"},
        {"kind": "NUMERIC", "answer": 1, "points": 0},
    ],
)
def test_a_question_that_cannot_be_graded_is_refused(question: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        QuestionBank.model_validate(bank_with(question))


def test_a_bank_keeps_apart_what_learners_see_and_its_keys() -> None:
    bank = QuestionBank.model_validate(
        bank_with(
            {"kind": "SHORT_TEXT", "accepted": [" Paris "], "explanation": "Capital."},
            questionsPerAttempt=1,
        )
    )
    settings, shown, keys = bank.split()
    assert settings == {
        "questionsPerAttempt": 1,
        "shuffleOptions": False,
        "passingScore": 0,
        "cooldownMinutes": 0,
    }
    assert shown == [{"id": "q", "kind": "SHORT_TEXT", "prompt": "?", "points": 1}]
    assert keys == {"q": {"accepted": ["paris"], "pattern": None, "explanation": "Capital."}}
    assert QuestionBank.from_parts(settings, shown, keys) == bank
