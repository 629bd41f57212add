"""Integrations API shapes (camelCase JSON): integrations as authors manage them, their
secrets (shown once), and the body of a completion webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from skilltree.catalog.schemas import AuthoringInput, Id, Slug
from skilltree.documents import WebUrl
from skilltree.progress.schemas import Minutes, ProgressOutcome
from skilltree.schemas import CamelModel, TreeRef

IntegrationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Username = Annotated[str, StringConstraints(min_length=1, max_length=100)]
GRACE_LIMIT_SECONDS = 30 * 24 * 3600
"""The longest a rotated-out secret may stay valid by itself (30 days)."""


class IntegrationCreate(AuthoringInput):
    """A new integration: of the tree `treeSlug` (its author or an admin), or of the whole
    platform without one (admins only)."""

    name: IntegrationName
    tree_slug: Slug | None = None


class IntegrationUpdate(AuthoringInput):
    """Rename, disable (`isActive: false`: its deliveries are refused) or enable again."""

    name: IntegrationName | None = None
    is_active: bool | None = None


class RotateRequest(CamelModel):
    """A new secret; the secrets the integration had stay valid until removed or, with
    `expireOthersInSeconds`, until that many seconds from now (0: at once)."""

    expire_others_in_seconds: Annotated[int, Field(ge=0, le=GRACE_LIMIT_SECONDS)] | None = None


class SecretInfo(CamelModel):
    """One signing secret, without the secret."""

    id: str
    created_at: datetime
    expires_at: datetime | None


class IntegrationInfo(CamelModel):
    """An integration as its managers see it (never its secrets)."""

    id: str
    name: str
    tree: TreeRef | None
    """The tree whose skills it completes; null: any tree's (the platform's)."""
    is_active: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    secrets: list[SecretInfo]
    completions_url: str
    """Where it sends its signed completions (`POST`)."""


class NewSecret(CamelModel):
    """A secret just made: `secret` is shown this once and never again."""

    integration: IntegrationInfo
    secret_id: str
    secret: str
    """`whsec_` and the key in base64, as Standard Webhooks libraries take it."""


class CompletionWebhook(AuthoringInput):
    """The body an integration signs: the learner (`userId` or `username`, exactly one), the
    skill, and optionally a score (checked against the skill's mark), minutes spent and a URL
    of the work (kept as the completion's evidence)."""

    user_id: Id | None = None
    username: Username | None = None
    skill_id: Id
    score: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    minutes_spent: Minutes | None = None
    evidence_url: WebUrl | None = None

    @model_validator(mode="after")
    def _one_learner(self) -> Self:
        if (self.user_id is None) == (self.username is None):
            raise ValueError("name the learner by exactly one of userId and username")
        return self


class ExternalCompletion(CamelModel):
    """What a signed completion did: the progress engine's outcome, and `repeated` when this
    webhook-id was delivered before (its first outcome, nothing done again)."""

    integration_id: str
    webhook_id: str
    user_id: str
    skill_id: str
    repeated: bool
    outcome: ProgressOutcome
