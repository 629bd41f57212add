"""Idempotency-Key: a retried request with the same key gets the first answer, not a second effect.

The key is claimed by inserting its row in the request's own transaction, before the work: a
concurrent retry waits on the row's unique index until the first request ends, then reads the
answer it stored. A request that fails stores nothing (its transaction rolls back), so its retry
runs again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from skilltree.errors import IdempotencyKeyReused
from skilltree.models import IdempotencyRecord

KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
"""A key is 1 to 200 visible ASCII characters (the header's schema: FastAPI checks it)."""
Answer = TypeVar("Answer", bound=BaseModel)


def fingerprint(method: str, path: str, body: BaseModel | None) -> bytes:
    """What makes two requests the same: method, path and the (parsed) body."""
    payload = body.model_dump_json(by_alias=True) if body is not None else ""
    return hashlib.sha256(f"{method} {path}\n{payload}".encode()).digest()


def run_once(
    session: Session,
    user_id: str,
    key: str | None,
    request: bytes,
    answer: type[Answer],
    work: Callable[[], Answer],
) -> Answer:
    """`work()`, or the answer stored for `key` when this user already sent that request."""
    if key is None:
        return work()
    claimed = session.execute(
        insert(IdempotencyRecord)
        .values(user_id=user_id, key=key, request_hash=request)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyRecord.key)
    ).first()
    if claimed is None:
        stored = session.execute(
            select(IdempotencyRecord.request_hash, IdempotencyRecord.response).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        ).one()
        if stored.request_hash != request:
            raise IdempotencyKeyReused()
        return answer.model_validate(stored.response)
    result = work()
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .values(status_code=200, response=result.model_dump(mode="json", by_alias=True))
    )
    return result


def forget_keys(session: Session, created_before: datetime) -> int:
    """Delete the answers kept for keys claimed before `created_before` (housekeeping: a client
    retries within minutes, not weeks); returns how many. A key of a request still running is
    newer than any sensible cut-off."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < created_before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
