"""What the API's role may do with integrations, in SQL: it never reads a secret (only through
`integration_signing_secrets`), reads and writes no delivery, and cannot make a row COMPLETED by
EXTERNAL without a delivery being completed; `integration_complete` acts for the transaction's
learner only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.constraints import violated_constraint
from skilltree.db.rls import act_as_learner, act_as_owner
from tests.factories import Person
from tests.integrations.conftest import Hook

DEFINER_FUNCTIONS = [
    "integration_signing_secrets(text, timestamp with time zone)",
    "integration_complete(text, text, text, text, text, timestamp with time zone,"
    " double precision, integer, text)",
]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT secret FROM integration_secrets",
        "SELECT * FROM integration_secrets",
        "SELECT id FROM integration_secrets WHERE secret LIKE 'whsec_%'",
        "SELECT s FROM integration_secrets s",
        "UPDATE integration_secrets SET expires_at = now() RETURNING secret",
        "DELETE FROM integration_secrets RETURNING secret",
        "UPDATE integration_secrets SET secret = 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'",
        "SELECT * FROM integration_deliveries",
        "INSERT INTO integration_deliveries (user_id, integration_id, webhook_id, skill_id,"
        " body_sha256, received_at) VALUES ('u', 'i', 'w', 's', 'h', now())",
        "UPDATE integration_deliveries SET answer = NULL",
    ],
)
def test_the_api_role_cannot_read_secrets_or_touch_deliveries(
    session: Session, hook: Hook, learner: Person, query: str
) -> None:
    act_as_learner(session, learner.id)
    with pytest.raises((ProgrammingError, DBAPIError)) as refused, session.begin_nested():
        session.execute(text(query))
    assert "permission denied" in str(refused.value)


def test_the_api_role_reads_all_but_the_secret_and_the_function_answers_live_ones(
    session: Session, hook: Hook, author: Person
) -> None:
    act_as_learner(session, author.id)
    rows = session.execute(
        text(
            "SELECT id, created_at, expires_at FROM integration_secrets WHERE integration_id = :i"
        ),
        {"i": hook.integration_id},
    ).all()
    assert len(rows) == 1
    answer = session.execute(
        text("SELECT integration_signing_secrets(:i, :now)"),
        {"i": hook.integration_id, "now": datetime.now(UTC)},
    ).scalar_one()
    assert answer["secrets"] == [hook.secret]
    session.execute(
        text(
            "UPDATE integration_secrets SET expires_at = now() - interval '1 second'"
            " WHERE integration_id = :i"
        ),
        {"i": hook.integration_id},
    )
    later = session.execute(
        text("SELECT integration_signing_secrets(:i, :now)"),
        {"i": hook.integration_id, "now": datetime.now(UTC)},
    ).scalar_one()
    assert later["secrets"] == []
    session.execute(
        text("UPDATE integrations SET is_active = false WHERE id = :i"), {"i": hook.integration_id}
    )
    assert (
        session.execute(
            text("SELECT integration_signing_secrets(:i, now())"), {"i": hook.integration_id}
        ).scalar_one()
        is None
    )


def test_the_definer_functions_are_the_roles_alone(session: Session) -> None:
    for signature in DEFINER_FUNCTIONS:
        public, app = session.execute(
            text(
                "SELECT has_function_privilege('public', CAST(:f AS regprocedure), 'EXECUTE'),"
                " has_function_privilege('skilltree_app', CAST(:f AS regprocedure), 'EXECUTE')"
            ),
            {"f": signature},
        ).one()
        assert (public, app) == (False, True), signature


def test_integration_complete_acts_for_the_transactions_learner_only(
    session: Session, hook: Hook, learner: Person, other_author: Person
) -> None:
    act_as_learner(session, other_author.id)
    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        session.execute(
            text("SELECT integration_complete(:i, 'w1', 'h', :u, :s, now())"),
            {"i": hook.integration_id, "u": learner.id, "s": hook.skill.id},
        )
    assert "only learner" in str(refused.value)


def test_no_writer_makes_a_row_completed_by_external_without_a_delivery(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    assert hook.send(client, hook.payload(learner)).status_code == 200
    act_as_owner(session)
    delivered = session.execute(
        text("SELECT webhook_id FROM integration_deliveries WHERE user_id = :u"), {"u": learner.id}
    ).scalar_one()
    hook.after.completion_policy = {"EXTERNAL": {}}
    session.flush()
    forged = (
        "UPDATE user_skill_progress SET status = 'COMPLETED', completed_at = now(),"
        " completion_method = 'EXTERNAL', evidence_data = jsonb_build_object('type', 'text',"
        " 'content', 'x', 'metadata', jsonb_build_object('integrationId', CAST(:i AS text),"
        " 'webhookId', CAST(:w AS text)))"
        " WHERE user_id = :u AND skill_id = :s"
    )
    # As the role, and as the owner: neither a made-up delivery nor a finished one will do.
    for as_role in (True, False):
        for webhook_id in ("made-up", delivered):
            if as_role:
                act_as_learner(session, learner.id)
            else:
                act_as_owner(session)
            with pytest.raises(DBAPIError) as refused, session.begin_nested():
                session.execute(
                    text(forged),
                    {
                        "i": hook.integration_id,
                        "w": webhook_id,
                        "u": learner.id,
                        "s": hook.after.id,
                    },
                )
            assert violated_constraint(refused.value) == "user_skill_progress_signed_delivery"
