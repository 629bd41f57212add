"""Managing integrations: who may make, see and change them; rotation (old and new secrets
both valid until the old is removed or expires); secrets shown once and never listed; the
`skilltree integration` commands."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from skilltree.cli import app
from tests import databases
from tests.committed import committed_rows
from tests.factories import Person, make_category, make_tree
from tests.integrations.conftest import Hook


def test_rotation_keeps_old_and_new_secrets_valid_until_the_old_is_removed(
    client: TestClient, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    url = f"/api/v1/integrations/{hook.integration_id}/secrets"
    rotated = client.post(url, json={}, headers=hook.author.headers)
    assert rotated.status_code == 201, rotated.text
    new, old = rotated.json()["secret"], hook.secret
    assert new != old
    secrets = rotated.json()["integration"]["secrets"]
    assert next(s["id"] for s in secrets) == rotated.json()["secretId"]  # newest first
    assert len(secrets) == 2
    assert all(s["expiresAt"] is None for s in secrets)
    assert hook.send(client, hook.payload(learner), secret=old).status_code == 200
    assert hook.send(client, hook.payload(learner), secret=new).status_code == 200
    old_id = secrets[1]["id"]
    removed = client.delete(f"{url}/{old_id}", headers=hook.author.headers)
    assert removed.status_code == 200, removed.text
    assert [s["id"] for s in removed.json()["secrets"]] == [rotated.json()["secretId"]]
    refused = hook.send(client, hook.payload(learner), secret=old)
    assert (refused.status_code, refused.json()["reason"]) == (401, "BadSignature")
    assert hook.send(client, hook.payload(learner), secret=new).status_code == 200
    last = client.delete(f"{url}/{rotated.json()['secretId']}", headers=hook.author.headers)
    assert (last.status_code, last.json()["code"]) == (409, "Conflict")
    unknown = client.delete(f"{url}/nope", headers=hook.author.headers)
    assert unknown.status_code == 404


def test_a_rotation_may_end_the_old_secrets_at_once(
    client: TestClient, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    url = f"/api/v1/integrations/{hook.integration_id}/secrets"
    rotated = client.post(url, json={"expireOthersInSeconds": 0}, headers=hook.author.headers)
    assert rotated.json()["integration"]["secrets"][1]["expiresAt"] is not None
    refused = hook.send(client, hook.payload(learner))
    assert (refused.status_code, refused.json()["reason"]) == (401, "BadSignature")
    assert (
        hook.send(client, hook.payload(learner), secret=rotated.json()["secret"]).status_code == 200
    )


def test_secrets_are_shown_once_and_never_listed(
    client: TestClient, hook: Hook, admin: Person
) -> None:
    for who in (hook.author, admin):
        listed = client.get("/api/v1/integrations", headers=who.headers)
        one = client.get(f"/api/v1/integrations/{hook.integration_id}", headers=who.headers)
        assert listed.status_code == one.status_code == 200
        assert hook.integration_id in {i["id"] for i in listed.json()}
        assert hook.secret not in listed.text + one.text
        assert hook.secret[len("whsec_") :] not in listed.text + one.text
    assert one.json()["completionsUrl"] == hook.url
    assert one.json()["tree"]["slug"] == hook.tree.slug


def test_who_may_manage_integrations(
    client: TestClient,
    session: Session,
    hook: Hook,
    learner: Person,
    other_author: Person,
    admin: Person,
) -> None:
    one = f"/api/v1/integrations/{hook.integration_id}"
    assert client.get("/api/v1/integrations", headers=learner.headers).status_code == 403
    assert client.get(one, headers=learner.headers).status_code == 403
    # Another author sees none of it, as for a tree they may not change.
    assert client.get("/api/v1/integrations", headers=other_author.headers).json() == []
    assert client.get(one, headers=other_author.headers).status_code == 404
    assert client.patch(one, json={"name": "x"}, headers=other_author.headers).status_code == 404
    rotate = client.post(f"{one}/secrets", json={}, headers=other_author.headers)
    assert rotate.status_code == 404
    theirs = client.post(
        "/api/v1/integrations",
        json={"name": "LMS", "treeSlug": hook.tree.slug},
        headers=other_author.headers,
    )
    assert theirs.status_code == 403
    platform = client.post(
        "/api/v1/integrations", json={"name": "LMS"}, headers=hook.author.headers
    )
    assert (platform.status_code, platform.json()["code"]) == (403, "Forbidden")
    by_admin = client.post("/api/v1/integrations", json={"name": "LMS"}, headers=admin.headers)
    assert by_admin.status_code == 201
    assert by_admin.json()["integration"]["tree"] is None
    renamed = client.patch(one, json={"name": "  CI 2 "}, headers=admin.headers)
    assert renamed.json()["name"] == "CI 2"
    unknown = client.post(
        "/api/v1/integrations", json={"name": "x", "treeSlug": "no-tree"}, headers=admin.headers
    )
    assert unknown.status_code == 404
    blank = client.post("/api/v1/integrations", json={"name": "  "}, headers=admin.headers)
    assert blank.status_code in (400, 422)


def test_a_platform_integration_completes_any_trees_skills(
    client: TestClient, session: Session, hook: Hook, learner: Person, admin: Person
) -> None:
    hook.ready(client, learner)
    made = client.post("/api/v1/integrations", json={"name": "LMS"}, headers=admin.headers)
    platform = made.json()
    url = f"/api/v1/integrations/{platform['integration']['id']}/completions"
    done = hook.send(client, hook.payload(learner), secret=platform["secret"], url=url)
    assert done.status_code == 200, done.text
    assert done.json()["outcome"]["xpAwarded"] == 40


def test_the_command_line_creates_rotates_lists_and_disables(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    with committed_rows(engine) as session:
        tree = make_tree(session, make_category(session))
        session.commit()
        made = runner.invoke(
            app, ["integration", "create", "--name", "Grader", "--tree", tree.slug]
        )
        assert made.exit_code == 0, made.output
        integration_id = made.stdout.splitlines()[0].split()[1]
        first_secret_id = made.stdout.splitlines()[1].split()[1].rstrip(":")
        assert made.stdout.splitlines()[1].split()[2].startswith("whsec_")
        rotated = runner.invoke(app, ["integration", "rotate", integration_id])
        assert rotated.exit_code == 0, rotated.output
        listed = runner.invoke(app, ["integration", "list"])
        mine = listed.stdout.split(integration_id, 1)[1].split("\n\n")[0]
        assert f"\tactive\t{tree.slug}\tGrader" in listed.stdout
        assert mine.count("secret ") == 2
        assert "whsec_" not in listed.stdout
        removed = runner.invoke(
            app, ["integration", "remove-secret", integration_id, first_secret_id]
        )
        assert removed.exit_code == 0, removed.output
        disabled = runner.invoke(app, ["integration", "disable", integration_id])
        assert disabled.exit_code == 0
        assert f"{integration_id}\tdisabled" in runner.invoke(app, ["integration", "list"]).stdout
        unknown = runner.invoke(app, ["integration", "rotate", "nope"])
        assert unknown.exit_code != 0
        blank = runner.invoke(app, ["integration", "create", "--name", " "])
        assert blank.exit_code != 0
        assert "--name" in blank.output
    databases.forget_engine()
