"""Integrations: authors (for their trees) and admins (for the platform) register systems that
complete skills for learners; such a system signs each completion (Standard Webhooks,
`signing`), and the completion goes through the progress engine by EXTERNAL in the request's
transaction (`integration_complete`, db/schema/integrations.sql), once per webhook-id.

Secrets are made here and shown once; the API's role cannot read them back (only
`integration_signing_secrets`, for the webhook's verification). Every refused delivery is
logged (`skilltree.integrations`, one JSON object a line: docs/operations.md). The caller
commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session

from skilltree.catalog import authoring
from skilltree.db.base import new_id
from skilltree.db.rls import set_current_learner
from skilltree.documents import validate_document
from skilltree.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    LearnerNotFound,
    NotFound,
    SkillNotFound,
    SkillTreeError,
    WebhookIdReused,
)
from skilltree.integrations import repository, signing
from skilltree.integrations.schemas import (
    CompletionWebhook,
    ExternalCompletion,
    IntegrationCreate,
    IntegrationInfo,
    IntegrationUpdate,
    NewSecret,
    RotateRequest,
    SecretInfo,
)
from skilltree.models import Integration, ProgressEventKind, User, UserRole
from skilltree.progress import service as progress
from skilltree.schemas import TreeRef

logger = logging.getLogger("skilltree.integrations")

OPERATOR = None
"""The actor of the command line: the tables' owner, who may manage every integration."""


def _now() -> datetime:
    return datetime.now(UTC)


def completions_url(integration_id: str) -> str:
    """Where the integration sends its signed completions."""
    return f"/api/v1/integrations/{integration_id}/completions"


# --- managing integrations ---


def create(session: Session, data: IntegrationCreate, actor: User | None) -> NewSecret:
    """A new integration of tree `treeSlug` (its author, an admin) or of the platform (an
    admin), with its first secret (shown this once)."""
    tree_id = None
    if data.tree_slug is not None:
        tree_id = authoring.authored_tree(session, data.tree_slug, actor).id
    elif actor is not None and actor.role is not UserRole.ADMIN:
        raise Forbidden("Only admins make integrations of the whole platform: name a tree.")
    integration = repository.add(session, data.name, tree_id, actor.id if actor else None)
    return _new_secret(session, integration, None)


def listed(session: Session, actor: User | None) -> list[IntegrationInfo]:
    """The integrations `actor` manages: an admin's (and the command line's) every one; an
    author's those of their trees."""
    if actor is None or actor.role is UserRole.ADMIN:
        return _infos(session, repository.listed(session, None))
    return _infos(session, repository.listed(session, actor.id))


def get(session: Session, integration_id: str, actor: User | None) -> IntegrationInfo:
    """One integration `actor` manages (NotFound for any other)."""
    return _infos(session, [_managed(session, integration_id, actor)])[0]


def update(
    session: Session, integration_id: str, data: IntegrationUpdate, actor: User | None
) -> IntegrationInfo:
    """Rename, disable or enable the integration."""
    integration = _managed(session, integration_id, actor)
    if data.name is not None:
        integration.name = data.name
    if data.is_active is not None:
        integration.is_active = data.is_active
    session.flush()
    session.refresh(integration)  # updated_at, from its trigger
    return _infos(session, [integration])[0]


def rotate(
    session: Session, integration_id: str, data: RotateRequest, actor: User | None
) -> NewSecret:
    """A new secret for the integration (shown this once); the old ones stay valid until
    removed, or until `expireOthersInSeconds` from now."""
    integration = _managed(session, integration_id, actor)
    grace = data.expire_others_in_seconds
    until = None if grace is None else _now() + timedelta(seconds=grace)
    return _new_secret(session, integration, until)


def remove_secret(
    session: Session, integration_id: str, secret_id: str, actor: User | None
) -> IntegrationInfo:
    """Remove one of the integration's secrets (the end of a rotation); its last one is kept
    (Conflict: rotate first)."""
    integration = _managed(session, integration_id, actor)
    secrets = repository.secrets_of(session, [integration.id])[integration.id]
    if secret_id not in {s[0] for s in secrets}:
        raise NotFound(f"The integration has no secret {secret_id!r}.")
    if len(secrets) == 1:
        raise Conflict("This is the integration's last secret: rotate first, then remove it.")
    repository.remove_secret(session, integration.id, secret_id)
    return _infos(session, [integration])[0]


def _managed(session: Session, integration_id: str, actor: User | None) -> Integration:
    # An admin (or the command line) manages every integration; an author those of their
    # trees; anyone else sees none (404, as for a tree they may not change).
    integration = repository.find(session, integration_id)
    if integration is None:
        raise NotFound(f"No integration has the id {integration_id!r}.")
    if actor is None or actor.role is UserRole.ADMIN:
        return integration
    tree = repository.trees(session, [integration.skill_tree_id or ""]).get(
        integration.skill_tree_id or ""
    )
    if actor.role is not UserRole.AUTHOR or tree is None or tree.created_by != actor.id:
        raise NotFound(f"No integration has the id {integration_id!r}.")
    return integration


def _new_secret(session: Session, integration: Integration, until: datetime | None) -> NewSecret:
    secret_id, secret = new_id(), signing.new_secret()
    repository.add_secret(session, integration.id, secret_id, secret, expire_others_at=until)
    return NewSecret(
        integration=_infos(session, [integration])[0], secret_id=secret_id, secret=secret
    )


def _infos(session: Session, integrations: list[Integration]) -> list[IntegrationInfo]:
    trees = repository.trees(session, [i.skill_tree_id for i in integrations if i.skill_tree_id])
    secrets = repository.secrets_of(session, [i.id for i in integrations])
    infos = []
    for i in integrations:
        tree = trees.get(i.skill_tree_id or "")
        infos.append(
            IntegrationInfo(
                id=i.id,
                name=i.name,
                tree=TreeRef.model_validate(tree) if tree else None,
                is_active=i.is_active,
                created_by=i.created_by,
                created_at=i.created_at,
                updated_at=i.updated_at,
                secrets=[
                    SecretInfo(id=s, created_at=made, expires_at=ends)
                    for s, made, ends in secrets[i.id]
                ],
                completions_url=completions_url(i.id),
            )
        )
    return infos


# --- receiving a signed completion ---


def receive(
    session: Session,
    integration_id: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int,
    client: str | None = None,
) -> ExternalCompletion:
    """Verify the delivery's signature, then complete the skill for the learner by EXTERNAL
    with every consequence; a webhook-id delivered before answers its first outcome. Every
    refusal is logged (`skilltree.integrations`) and raised."""
    try:
        return _receive(session, integration_id, headers, body, tolerance_seconds)
    except SkillTreeError as refusal:
        logger.warning(
            json.dumps(
                {
                    "event": "webhook_refused",
                    "integrationId": integration_id[:200],
                    "webhookId": (headers.get("webhook-id") or "")[:200] or None,
                    "code": refusal.code,
                    "reason": refusal.extra.get("reason"),
                    "detail": refusal.message,
                    "client": client,
                }
            )
        )
        raise


def _receive(
    session: Session,
    integration_id: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_seconds: int,
) -> ExternalCompletion:
    now = _now()
    integration = repository.signing_secrets(session, integration_id, now)
    if integration is None:
        raise signing.refuse("UnknownIntegration", "No active integration has this id.")
    signed = signing.verify(
        integration["secrets"], headers, body, now=now, tolerance_seconds=tolerance_seconds
    )
    request = _payload(body)
    learner = repository.learner_id(session, request.user_id, request.username)
    if learner is None:
        who = request.user_id or request.username
        field = "userId" if request.user_id else "username"
        raise LearnerNotFound(f"No active learner has the {field} {who!r}.")
    # The delivery acts for its learner from here on (row-level security), as a sign-in does.
    set_current_learner(session, learner)
    with progress.engine_refusals():
        answer = repository.complete(
            session,
            integration_id,
            signed.webhook_id,
            hashlib.sha256(body).hexdigest(),
            learner,
            request.skill_id,
            now,
            score=request.score,
            minutes=request.minutes_spent or 0,
            url=request.evidence_url,
        )
    # Refusals of the delivery itself here; the engine's (SkillLocked, MethodNotAllowed, ...)
    # and none at all go on to `progress.outcome`, which raises the engine's errors.
    refused = answer.get("refused") or answer["outcome"].get("refused")
    match refused:
        case "UnknownIntegration":  # disabled since its secrets were read
            raise signing.refuse("UnknownIntegration", "No active integration has this id.")
        case "UnknownLearner":
            raise LearnerNotFound(f"No active learner has the id {learner!r}.")
        case "UnknownSkill" | "NotFound" | "Unpublished":
            raise SkillNotFound(
                f"No skill has the id {request.skill_id!r} that this integration may complete."
            )
        case "WebhookIdReused":
            raise WebhookIdReused(
                f"The webhook-id {signed.webhook_id!r} was delivered before with another body."
            )
    repeated = answer.get("repeated", False)
    result = progress.outcome(answer["outcome"], ProgressEventKind.COMPLETE)
    return ExternalCompletion(
        integration_id=integration_id,
        webhook_id=signed.webhook_id,
        user_id=learner,
        skill_id=request.skill_id,
        repeated=repeated,
        # A repeat answers the first delivery's outcome: counted once, then.
        outcome=result
        if repeated
        else progress.counted(session, ProgressEventKind.COMPLETE, result),
    )


def _payload(body: bytes) -> CompletionWebhook:
    # The body is read only once its signature is verified.
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput(
            "The body is not JSON.",
            errors=[FieldError(loc=("body",), msg="must be a JSON object", type="json_invalid")],
        ) from None
    validated = validate_document(CompletionWebhook, data, at=("body",))
    return CompletionWebhook.model_validate(validated)
