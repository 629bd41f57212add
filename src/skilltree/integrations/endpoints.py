"""Integrations API: authors (for their trees) and admins (for the platform) register systems
that complete skills, rotate and remove their signing secrets, disable them; the systems send
signed completions (Standard Webhooks) to `POST /integrations/{id}/completions`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from skilltree.config import get_settings
from skilltree.dependencies import AuthorUser, DbSession, UnsignedInSession
from skilltree.integrations import service
from skilltree.integrations.schemas import (
    CompletionWebhook,
    ExternalCompletion,
    IntegrationCreate,
    IntegrationInfo,
    IntegrationUpdate,
    NewSecret,
    RotateRequest,
)
from skilltree.openapi import Answers

router = APIRouter(tags=["integrations"])

_MANAGE: Answers = {
    403: {"description": "Only authors (of their trees) and admins manage integrations."},
    404: {"description": "No integration (or tree) has this id that you manage."},
}
_CREATE: Answers = {
    403: {
        "description": "Only the tree's author or an admin makes its integrations; only an "
        "admin one of the whole platform."
    },
    404: {"description": "No skill tree has this `treeSlug` that you may see."},
}
_REMOVE: Answers = {
    **_MANAGE,
    409: {"description": "It is the integration's last secret (`Conflict`): rotate first."},
}
_DELIVERY: Answers = {
    400: {"description": "The signed body is not a valid completion (`InvalidInput`)."},
    401: {
        "description": "Refused (`WebhookRefused`, with `reason`): `MissingHeaders`, "
        "`BadHeaders`, `Stale` (webhook-timestamp outside the replay window), `BadSignature`, "
        "`UnknownIntegration` (none with this id, or disabled). Logged."
    },
    404: {
        "description": "No active learner has this `userId` or `username` (`LearnerNotFound`), "
        "or no skill has this `skillId` that the integration may complete (`SkillNotFound`)."
    },
    409: {
        "description": "The webhook-id was delivered before with another body "
        "(`WebhookIdReused`); the skill's completion policy does not allow EXTERNAL "
        "(`CompletionMethodNotAllowed`, with `allowedMethods`); it is locked (`SkillLocked`)."
    },
}
_DELIVERY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A `CompletionWebhook`, signed as sent (the exact bytes).",
        "content": {
            "application/json": {
                "schema": CompletionWebhook.model_json_schema(by_alias=True, mode="validation")
            }
        },
    }
}


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/integrations", response_model=NewSecret, status_code=201, responses=_CREATE)
def create_integration(
    body: IntegrationCreate, session: DbSession, author: AuthorUser
) -> NewSecret:
    """Register an integration of a tree (`treeSlug`) or of the platform (admins): answered
    with its first signing secret, shown this once."""
    return service.create(session, body, author)


@router.get("/integrations", response_model=list[IntegrationInfo], responses=_MANAGE)
def list_integrations(session: DbSession, author: AuthorUser) -> list[IntegrationInfo]:
    """The integrations you manage (an admin: every one), without their secrets."""
    return service.listed(session, author)


@router.get("/integrations/{integration_id}", response_model=IntegrationInfo, responses=_MANAGE)
def get_integration(integration_id: str, session: DbSession, author: AuthorUser) -> IntegrationInfo:
    """One integration you manage, without its secrets."""
    return service.get(session, integration_id, author)


@router.patch("/integrations/{integration_id}", response_model=IntegrationInfo, responses=_MANAGE)
def update_integration(
    integration_id: str, body: IntegrationUpdate, session: DbSession, author: AuthorUser
) -> IntegrationInfo:
    """Rename it, or disable it (`isActive: false`: its deliveries are refused) and enable it."""
    return service.update(session, integration_id, body, author)


@router.post(
    "/integrations/{integration_id}/secrets",
    response_model=NewSecret,
    status_code=201,
    responses=_MANAGE,
)
def rotate_secret(
    integration_id: str, body: RotateRequest, session: DbSession, author: AuthorUser
) -> NewSecret:
    """Rotate: a new secret, shown this once. The old ones stay valid until removed (or until
    `expireOthersInSeconds`), so the integration can switch without a refused delivery."""
    return service.rotate(session, integration_id, body, author)


@router.delete(
    "/integrations/{integration_id}/secrets/{secret_id}",
    response_model=IntegrationInfo,
    responses=_REMOVE,
)
def remove_secret(
    integration_id: str, secret_id: str, session: DbSession, author: AuthorUser
) -> IntegrationInfo:
    """Remove a secret (the end of a rotation): deliveries it signs are refused from now on."""
    return service.remove_secret(session, integration_id, secret_id, author)


@router.post(
    "/integrations/{integration_id}/completions",
    response_model=ExternalCompletion,
    responses=_DELIVERY,
    openapi_extra=_DELIVERY_BODY,
)
def receive_completion(
    integration_id: str,
    request: Request,
    session: UnsignedInSession,
    body: Annotated[bytes, Depends(_raw_body)],
    webhook_id: Annotated[str | None, Header(alias="webhook-id")] = None,
    webhook_timestamp: Annotated[str | None, Header(alias="webhook-timestamp")] = None,
    webhook_signature: Annotated[str | None, Header(alias="webhook-signature")] = None,
) -> ExternalCompletion:
    """An integration completes a skill for a learner (method EXTERNAL, with every consequence:
    XP, unlocks, streak, achievements), signed per Standard Webhooks (no bearer token). A
    webhook-id delivered before answers its first outcome (`repeated`) and completes nothing."""
    headers = {
        name: value
        for name, value in (
            ("webhook-id", webhook_id),
            ("webhook-timestamp", webhook_timestamp),
            ("webhook-signature", webhook_signature),
        )
        if value is not None
    }
    return service.receive(
        session,
        integration_id,
        headers,
        body,
        tolerance_seconds=get_settings().webhook_tolerance_seconds,
        client=request.client.host if request.client else None,
    )
