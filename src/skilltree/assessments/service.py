"""Question banks and attempts: authors write a skill's bank; learners start an attempt (the
server draws its questions) and submit it (the server grades it and, when it passes, completes
the skill by ASSESSMENT through the progress engine, in the same transaction).

The drawing, the limits and the grading run in PostgreSQL (`assessment_start`,
`assessment_submit`, db/schema/assessments.sql), which alone reads the answer keys; this module
checks who may do what and shapes the answers. The caller commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from skilltree.assessments import repository
from skilltree.assessments.schemas import (
    Attempt,
    AttemptPage,
    AttemptSummary,
    QuestionBank,
    SubmitRequest,
    normal_text,
)
from skilltree.catalog import authoring
from skilltree.catalog.visibility import may_view_tree
from skilltree.documents import validate_document
from skilltree.errors import AttemptNotAllowedYet, NotFound, SkillLocked
from skilltree.graph import service as graph_service
from skilltree.mastery import service as mastery_service
from skilltree.models import ProgressEventKind, User
from skilltree.progress import service as progress_service
from skilltree.schemas import PageParams


def _now() -> datetime:
    return datetime.now(UTC)


def put_bank(
    session: Session, skill_id: str, bank: QuestionBank | dict[str, Any], author: User
) -> QuestionBank:
    """Set the question bank of skill `skill_id` (its tree's author or an admin); a bank given
    as JSON is checked first (InvalidInput naming each field)."""
    authoring.authored_skill(session, skill_id, author)
    if not isinstance(bank, QuestionBank):
        bank = QuestionBank.model_validate(validate_document(QuestionBank, bank))
    repository.save_bank(session, skill_id, *bank.split())
    return bank


def get_bank(session: Session, skill_id: str, author: User) -> QuestionBank:
    """The skill's question bank with its keys and explanations, for its author or an admin."""
    authoring.authored_skill(session, skill_id, author)
    shown = repository.shown_bank(session, skill_id)
    keys = repository.bank_keys(session, author.id, skill_id)
    if shown is None or keys is None:
        raise NotFound(f"The skill {skill_id!r} has no question bank.")
    return QuestionBank.from_parts(shown[0], shown[1], keys)


def delete_bank(session: Session, skill_id: str, author: User) -> None:
    """Delete the skill's question bank (its attempts go with the skill, not with the bank)."""
    authoring.authored_skill(session, skill_id, author)
    if not repository.delete_bank(session, skill_id):
        raise NotFound(f"The skill {skill_id!r} has no question bank.")


def tree_banks(
    session: Session, tree_id: str, viewer: User | None, *, operator: bool = False
) -> dict[str, QuestionBank]:
    """The banks of the tree's skills by skill key, with their keys, for a tree file: for the
    tree's author, an admin, or the `operator` (the command line, as the tables' owner); none
    for anyone else (a learner's export holds no bank at all)."""
    banks: dict[str, QuestionBank] = {}
    for skill_id, key, settings, questions in repository.tree_banks(session, tree_id):
        if operator:
            keys: dict[str, Any] | None = repository.stored_keys(session, skill_id)
        elif viewer is not None:
            keys = repository.bank_keys(session, viewer.id, skill_id)
        else:
            keys = None
        if keys is None:
            return {}
        banks[key] = QuestionBank.from_parts(settings, questions, keys)
    return banks


def replace_tree_banks(session: Session, tree_id: str, banks: dict[str, QuestionBank]) -> None:
    """Make the banks of the tree's skills these (by skill id), and no others: a tree file says
    every bank of its tree. The caller has checked who may change the tree."""
    repository.delete_tree_banks(session, tree_id)
    for skill_id, bank in banks.items():
        repository.save_bank(session, skill_id, *bank.split())


def has_bank(session: Session, skill_id: str) -> bool:
    """Whether the skill has a question bank (then ASSESSMENT goes through attempts only)."""
    return repository.has_bank(session, skill_id)


def start_attempt(session: Session, user: User, skill_id: str) -> Attempt:
    """A new attempt at the skill's bank (or the one still open): its questions drawn, in
    order, without keys. Refused inside the cooldown or past the day's limit, with `retryAt`."""
    answer = visible_answer(
        user, lambda ok: repository.start(session, user.id, skill_id, _now(), unpublished_ok=ok)
    )
    match answer.get("refused"):
        case None:
            return Attempt.model_validate(answer)
        case "NotFound":
            raise NotFound(f"No skill has the id {skill_id!r}.")
        case "NoBank":
            raise NotFound(f"The skill {skill_id!r} has no question bank.")
        case "SkillLocked":
            names = ", ".join(m["name"] for m in answer["missing"])
            raise SkillLocked(
                f"Cannot take this assessment yet: first {names}.",
                extra={"missing": answer["missing"]},
            )
        case "AttemptLimit":
            raise AttemptNotAllowedYet(
                f"{answer['limit']} attempts a day are allowed; the next at {answer['retryAt']}.",
                extra={"retryAt": answer["retryAt"], "reason": "AttemptLimit"},
            )
        case "Cooldown":
            raise AttemptNotAllowedYet(
                f"The next attempt is allowed at {answer['retryAt']}.",
                extra={"retryAt": answer["retryAt"], "reason": "Cooldown"},
            )
    raise AssertionError(f"unknown refusal {answer!r}")


def visible_answer(user: User, call: Callable[[bool], dict[str, Any]]) -> dict[str, Any]:
    """`call(unpublished_ok)`, asked again for a draft the learner may see (its author, an
    admin); a draft hidden from them is `{"refused": "NotFound"}`."""
    answer = call(False)
    if answer.get("refused") == "Unpublished":
        if not may_view_tree(is_published=False, created_by=answer["createdBy"], viewer=user):
            return {"refused": "NotFound"}
        answer = call(True)
    return answer


def get_attempt(session: Session, user: User, attempt_id: str) -> Attempt:
    """The learner's own attempt (results and explanations once submitted)."""
    answer = repository.attempt(session, user.id, attempt_id)
    if answer is None:
        raise NotFound(f"No attempt has the id {attempt_id!r}.")
    return Attempt.model_validate(answer)


def list_attempts(session: Session, user: User, skill_id: str, paging: PageParams) -> AttemptPage:
    """A page of the learner's own attempts at the skill, newest first; NotFound for a skill
    they may not see."""
    graph_service.visible_skill(session, skill_id, user)
    items, total = repository.attempts(session, user.id, skill_id, paging.page_size, paging.offset)
    return AttemptPage(
        items=[AttemptSummary.model_validate(item) for item in items],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def submit_attempt(
    session: Session, user: User, attempt_id: str, request: SubmitRequest
) -> Attempt:
    """Grade the attempt once (a second submit answers the first grade); a pass completes the
    skill by ASSESSMENT with every consequence, its evidence naming the attempt."""
    # Short answers are graded as the API normalises them (Python's casefold(), which
    # PostgreSQL's lower() does not match under every locale): every string answer goes folded
    # too, and the grading takes the folded one for short-text questions.
    folded = {q: normal_text(v) for q, v in request.answers.items() if isinstance(v, str)}
    answer = visible_answer(
        user,
        lambda ok: repository.submit(
            session, user.id, attempt_id, request.answers, folded, _now(), unpublished_ok=ok
        ),
    )
    if answer.get("refused") == "NotFound":
        raise NotFound(f"No attempt has the id {attempt_id!r}.")
    attempt = Attempt.model_validate(answer)
    if attempt.review:
        # A review attempt moves the skill's mastery once (a repeated submit answers it).
        attempt.mastery = mastery_service.attempt_review(
            session, user, attempt.skill_id, attempt.id, repeated=attempt.repeated
        )
    completion = attempt.completion
    if completion and completion.get("changed") and not answer.get("repeated"):
        progress_service.count_events(
            session,
            ProgressEventKind.COMPLETE,
            unlocked=len(completion.get("unlocked") or ()),
            achievements=len(completion.get("achievements") or ()),
            level_up=bool(completion.get("levelUp")),
        )
    return attempt
