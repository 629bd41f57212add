"""The SkillTree error hierarchy: the class name is the error code, the docstring the message.

HTTP statuses are mapped in one table in `skilltree.app`; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of the input, located by its path."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape used in problem+json `errors` lists."""
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


class SkillTreeError(Exception):
    """Something went wrong in SkillTree."""

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        self.message = message or (type(self).__doc__ or "").strip().splitlines()[0]
        self.errors = errors or []
        self.extra = extra or {}
        """More members of the error's answer (JSON values), e.g. the skills of a cycle."""
        super().__init__(self.message)

    @property
    def code(self) -> str:
        """The stable error code: the class name."""
        return type(self).__name__


class NotFound(SkillTreeError):
    """The requested resource does not exist."""


class AlreadyExists(SkillTreeError):
    """A resource with the same unique value already exists."""


class InvalidInput(SkillTreeError):
    """The input breaks a rule of SkillTree."""


class DependencyCycle(SkillTreeError):
    """The prerequisites would form a cycle."""


class InvalidCredentials(SkillTreeError):
    """The login or password is not correct."""


class TooManyAttempts(SkillTreeError):
    """Too many failed sign-ins: wait before trying again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-ins: try again in {retry_after} seconds.")
        self.retry_after = retry_after
        """Seconds until an attempt may be made again."""


class NotAuthenticated(SkillTreeError):
    """Sign in first: the request carries no valid session token."""


class Forbidden(SkillTreeError):
    """You are not allowed to do this."""


class DatabaseUnavailable(SkillTreeError):
    """The database cannot be reached."""


class Conflict(SkillTreeError):
    """The request conflicts with the current state."""


class SkillLocked(Conflict):
    """This skill is locked: some of its prerequisites are not satisfied yet."""


class InvalidTransition(Conflict):
    """The skill cannot go from its current state to the one asked for."""


class CompletionMethodNotAllowed(Conflict):
    """This skill cannot be completed by this method: `allowedMethods` lists those that can."""


class NotEnoughTimeLogged(Conflict):
    """Not enough time is logged on this skill yet to complete it by time."""


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key was already used for a different request."""


class InvalidSettings(SkillTreeError):
    """A setting (an environment variable) is not valid."""


class AttemptNotAllowedYet(Conflict):
    """No new attempt is allowed yet (the day's limit or the cooldown): `retryAt` says when."""


class AssessmentAttemptRequired(Conflict):
    """This skill has a question bank: it is completed by ASSESSMENT only through an attempt
    the server grades (`POST /skills/{id}/attempts`, then `POST /attempts/{id}/submit`)."""


class WebhookRefused(SkillTreeError):
    """The webhook delivery is not signed as the integration's secrets sign (`reason` says
    how: missing headers, a bad timestamp, outside the replay window, no matching signature,
    or no such active integration)."""


class WebhookIdReused(Conflict):
    """This webhook-id was already delivered with another body: a new message needs a new id."""


class LearnerNotFound(NotFound):
    """No active learner has this id or username."""


class SkillNotFound(NotFound):
    """No skill has this id that the integration may complete."""


class SignedDeliveryRequired(Conflict):
    """A skill is completed by EXTERNAL only through a signed webhook of an integration
    (`POST /integrations/{id}/completions`), never on the learner's own word."""


class ProjectReviewRequired(Conflict):
    """This skill is completed by PROJECT only through a submission a reviewer approves
    (`POST /skills/{id}/submissions`)."""


class SubmissionPending(Conflict):
    """A submission of this skill is already waiting for its review (or approved)."""


class ReviewNotClaimed(Conflict):
    """Only the reviewer holding the submission's claim decides on it: claim it first."""


class AlreadyReviewed(Conflict):
    """This submission has its review already."""


class ReviewAttemptRequired(Conflict):
    """This skill has a question bank: its mastery is reviewed by a review attempt
    (`POST /skills/{id}/attempts`, then `POST /attempts/{id}/submit`), not by self-rating."""
