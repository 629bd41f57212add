"""A learner's flow through the API on the database of DATABASE_URL (a Citus coordinator after
scripts/citus/distribute.sql): register, sign in, enrol in a demo tree, read it, complete an
available skill, read the progress. Each step prints its status, or the server's error (the
database's message first), and the flow goes on where it can.

    DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/skilltree \\
        .venv/bin/python -m scripts.citus.learner_flow
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from skilltree.app import create_app
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners


class _LastError(logging.Handler):
    """Keeps the database's message of the last error the server logged (instead of its trace)."""

    message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            cause = getattr(error, "orig", None) or error
            first = str(cause).splitlines()[0] if str(cause) else repr(cause)
            self.message = f"{type(cause).__name__}: {first}"


_LAST = _LastError()


def _step(client: TestClient, name: str, method: str, path: str, **options: Any) -> Any:
    try:
        answer = client.request(method, path, **options)
    except Exception as error:  # the server's own: the database error is its first line
        cause = error.__cause__ or error
        message = " | ".join(line for line in str(cause).splitlines()[:3] if line.strip())
        print(f"{name}: server error {type(cause).__name__}: {message}")
        return None
    body = answer.text[:300].replace("\n", " ")
    print(f"{name}: {answer.status_code} {body}")
    if answer.status_code >= 500 and _LAST.message:
        print(f"    database: {_LAST.message}")
    _LAST.message = None
    try:
        return answer.json() if answer.is_success else None
    except ValueError:
        return None


def main() -> None:
    register_listeners()
    logging.basicConfig(handlers=[_LAST], level=logging.ERROR, force=True)
    engine = create_db_engine(os.environ["DATABASE_URL"])
    with engine.connect() as conn:
        slug = conn.execute(
            text("SELECT slug FROM skill_trees WHERE is_published ORDER BY slug LIMIT 1")
        ).scalar_one()
    name = f"citus{secrets.token_hex(4)}"
    with TestClient(create_app(engine), raise_server_exceptions=True) as client:
        client.headers["user-agent"] = "scripts/citus/learner_flow"
        account = {
            "email": f"{name}@example.org",
            "username": name,
            "password": "Zq8!-" + secrets.token_hex(8),
        }
        registered = _step(client, "register", "POST", "/api/v1/auth/register", json=account)
        signed = _step(
            client, "login", "POST", "/api/v1/auth/login",
            json={"email": account["email"], "password": account["password"]},
        )  # fmt: skip
        token = (signed or registered or {}).get("token")
        if token is None:
            print("no token: the flow stops here")
            return
        client.headers["authorization"] = f"Bearer {token}"
        _step(client, "me", "GET", "/api/v1/me")
        _step(client, f"enrol {slug}", "POST", f"/api/v1/trees/{slug}/enroll")
        tree = _step(client, "tree with progress", "GET", f"/api/v1/trees/{slug}")
        states = (tree or {}).get("skillStates") or {}
        available = [skill for skill, state in states.items() if state.get("status") == "AVAILABLE"]
        if available:
            _step(client, "complete", "POST", f"/api/v1/skills/{available[0]}/complete", json={})
        else:
            print("complete: no AVAILABLE skill read, not tried")
        _step(client, "progress", "GET", "/api/v1/me/progress")
        _step(client, "logout", "POST", "/api/v1/auth/logout")
    engine.dispose()


if __name__ == "__main__":
    main()
