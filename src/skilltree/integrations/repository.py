"""Integration queries: integrations and their secrets as the API's role may see them (never a
secret), and the functions that answer live secrets and complete a delivery
(db/schema/integrations.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from skilltree.models import Integration, IntegrationSecret, SkillTree, User


def add(session: Session, name: str, tree_id: str | None, created_by: str | None) -> Integration:
    """A new, active integration."""
    integration = Integration(name=name, skill_tree_id=tree_id, created_by=created_by)
    session.add(integration)
    session.flush()
    return integration


def find(session: Session, integration_id: str) -> Integration | None:
    """The integration with this id, if any."""
    return session.get(Integration, integration_id)


def listed(session: Session, author_id: str | None) -> list[Integration]:
    """Every integration (`author_id` None), or those of the trees `author_id` created, oldest
    first."""
    query = select(Integration).order_by(Integration.created_at, Integration.id)
    if author_id is not None:
        query = query.join(SkillTree, SkillTree.id == Integration.skill_tree_id).where(
            SkillTree.created_by == author_id
        )
    return list(session.scalars(query))


def trees(session: Session, tree_ids: Sequence[str]) -> dict[str, SkillTree]:
    """The trees with these ids, by id."""
    if not tree_ids:
        return {}
    rows = session.scalars(select(SkillTree).where(SkillTree.id.in_(tree_ids)))
    return {tree.id: tree for tree in rows}


def secrets_of(session: Session, integration_ids: Sequence[str]) -> dict[str, list[Any]]:
    """(id, created_at, expires_at) of each integration's secrets, newest first (the secrets
    themselves are not the API role's to read)."""
    found: dict[str, list[Any]] = {i: [] for i in integration_ids}
    if not integration_ids:
        return found
    rows = session.execute(
        select(
            IntegrationSecret.integration_id,
            IntegrationSecret.id,
            IntegrationSecret.created_at,
            IntegrationSecret.expires_at,
        )
        .where(IntegrationSecret.integration_id.in_(integration_ids))
        .order_by(IntegrationSecret.created_at.desc(), IntegrationSecret.id)
    ).tuples()
    for integration_id, secret_id, created_at, expires_at in rows:
        found[integration_id].append((secret_id, created_at, expires_at))
    return found


def add_secret(
    session: Session,
    integration_id: str,
    secret_id: str,
    secret: str,
    *,
    expire_others_at: datetime | None,
) -> None:
    """Give the integration a new secret; its other secrets expire at `expire_others_at` (None:
    they stay until removed; one that expires sooner keeps its time)."""
    if expire_others_at is not None:
        session.execute(
            text(
                "UPDATE integration_secrets SET expires_at = :at WHERE integration_id = :i"
                " AND (expires_at IS NULL OR expires_at > :at)"
            ),
            {"i": integration_id, "at": expire_others_at},
        )
    # Stamped with the clock, not the transaction's start: "newest first" stays true for secrets
    # made in one transaction (an integration created and rotated at once).
    session.execute(
        text(
            "INSERT INTO integration_secrets (integration_id, id, secret, created_at)"
            " VALUES (:i, :s, :v, clock_timestamp())"
        ),
        {"i": integration_id, "s": secret_id, "v": secret},
    )


def remove_secret(session: Session, integration_id: str, secret_id: str) -> bool:
    """Remove one secret; whether there was such a one."""
    removed = session.execute(
        text("DELETE FROM integration_secrets WHERE integration_id = :i AND id = :s RETURNING id"),
        {"i": integration_id, "s": secret_id},
    ).first()
    return removed is not None


def signing_secrets(session: Session, integration_id: str, now: datetime) -> dict[str, Any] | None:
    """`integration_signing_secrets`: an active integration's id, name, tree and live secrets
    (newest first); None for an unknown or disabled one."""
    answer = session.execute(
        text("SELECT integration_signing_secrets(:i, :now)::text"),
        {"i": integration_id, "now": now},
    ).scalar_one()
    return None if answer is None else dict(orjson.loads(answer))


def learner_id(session: Session, user_id: str | None, username: str | None) -> str | None:
    """The id of the active user with this id, or else this username (case ignored)."""
    query = select(User.id).where(User.is_active)
    if user_id is not None:
        query = query.where(User.id == user_id)
    else:
        query = query.where(func.lower(User.username) == (username or "").lower())
    found: str | None = session.scalars(query).first()
    return found


def complete(
    session: Session,
    integration_id: str,
    webhook_id: str,
    body_sha256: str,
    user_id: str,
    skill_id: str,
    now: datetime,
    *,
    score: float | None,
    minutes: int,
    url: str | None,
) -> dict[str, Any]:
    """`integration_complete`: `{"repeated": ..., "outcome": <the engine's answer>}`, or
    `{"refused": ...}`."""
    answer = session.execute(
        text("SELECT integration_complete(:i, :w, :h, :u, :s, :now, :score, :minutes, :url)::text"),
        {
            "i": integration_id,
            "w": webhook_id,
            "h": body_sha256,
            "u": user_id,
            "s": skill_id,
            "now": now,
            "score": score,
            "minutes": minutes,
            "url": url,
        },
    ).scalar_one()
    result: dict[str, Any] = orjson.loads(answer)
    return result


def forget_deliveries(session: Session, before: datetime) -> int:
    """Delete the deliveries received before `before` (as the tables' owner: housekeeping);
    how many. A replay of one is refused as stale by then."""
    deleted = session.execute(
        text("DELETE FROM integration_deliveries WHERE received_at < :before"),
        {"before": before},
    )
    return int(deleted.rowcount)  # type: ignore[attr-defined]
