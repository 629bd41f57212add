"""Standard Webhooks signatures (https://www.standardwebhooks.com/): a delivery carries
`webhook-id`, `webhook-timestamp` (seconds since the epoch) and `webhook-signature` (one or more
`v1,<base64 HMAC-SHA256>`, space-separated) of `<id>.<timestamp>.<body>` under a secret shared
with the integration (`whsec_<base64 key>`).

The signature is computed by the `standardwebhooks` package's own `Webhook.sign`; the replay
window is ours (WEBHOOK_TOLERANCE_SECONDS: the package's `verify` fixes 5 minutes and reads the
clock itself), and every secret the integration has live is tried (rotation: old and new).
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks import Webhook

from skilltree.errors import WebhookRefused

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
"""A new secret's key: 256 random bits (HMAC-SHA256's block holds up to 512)."""
WEBHOOK_ID = re.compile(r"[\x21-\x7e]{1,200}")
"""A webhook-id: 1 to 200 visible ASCII characters (the spec leaves its form to the sender)."""
TIMESTAMP = re.compile(r"[0-9]{1,12}")
MAX_SIGNATURES = 10
"""Signatures of one delivery that are tried (a sender rotating its own secrets sends two)."""


def new_secret() -> str:
    """A new signing secret, as Standard Webhooks libraries take it: `whsec_<base64 key>`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True)
class Signed:
    """A delivery whose signature one of the integration's secrets made."""

    webhook_id: str
    timestamp: datetime


def refuse(reason: str, message: str) -> WebhookRefused:
    """The 401 for a delivery refused for `reason` (a stable word: docs/api.md)."""
    return WebhookRefused(message, extra={"reason": reason})


def verify(
    secrets_live: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance_seconds: int,
) -> Signed:
    """The delivery's id and time when `headers` sign `body` with one of `secrets_live` within
    `tolerance_seconds` of `now`; else WebhookRefused with its `reason`."""
    webhook_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signature = headers.get("webhook-signature")
    if not webhook_id or not stamp or not signature:
        raise refuse(
            "MissingHeaders",
            "A delivery must carry webhook-id, webhook-timestamp and webhook-signature.",
        )
    if WEBHOOK_ID.fullmatch(webhook_id) is None:
        raise refuse("BadHeaders", "webhook-id must be 1 to 200 visible ASCII characters.")
    if TIMESTAMP.fullmatch(stamp) is None:
        raise refuse("BadHeaders", "webhook-timestamp must be whole seconds since the epoch.")
    sent = datetime.fromtimestamp(int(stamp), UTC)
    if abs((now - sent).total_seconds()) > tolerance_seconds:
        raise refuse(
            "Stale",
            f"webhook-timestamp is more than {tolerance_seconds} seconds from the server's "
            "clock: the delivery is outside the replay window.",
        )
    offered = [s.encode() for s in signature.split(" ") if s.startswith("v1,")][:MAX_SIGNATURES]
    for secret in secrets_live:
        expected = Webhook(secret).sign(webhook_id, sent, body).encode()
        # Every offered signature is compared, in constant time each.
        if any([hmac.compare_digest(expected, given) for given in offered]):
            return Signed(webhook_id, sent)
    raise refuse("BadSignature", "No signature of the delivery matches the integration's secrets.")
