"""`skilltree db new-migration`: start a migration that redefines functions and views, with their
whole definitions copied from the live schema (db/schema/), so nobody copies them by hand.

Its upgrade starts as the definitions as they are (edit them into the new ones); its downgrade is
the same definitions, frozen: what the revision before it installed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from skilltree.db import live_schema
from skilltree.db.migrate import MIGRATIONS_DIR, head_revision

VERSIONS_DIR = MIGRATIONS_DIR / "versions"

TEMPLATE = '''\
"""{message}

Revision ID: {revision}
Revises: {down_revision}
Create Date: {today}

(Write here what changes, and why: the generator leaves this line for you.)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "{revision}"
down_revision: str | None = "{down_revision}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by `skilltree db new-migration` from the live schema as {down_revision} left it
# ({sources}): edit it into what this revision installs.
UPGRADE = r"""
{upgrade}
"""

# What {down_revision} installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
{downgrade}
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
'''


class CannotWriteMigration(Exception):
    """The migration cannot be written as asked."""


def slug(message: str) -> str:
    """The migration file's name after its number: the message's words, lower case, underscored."""
    words = re.findall(r"[a-z0-9]+", message.lower())
    name = ""
    for word in words:
        if len(name) + len(word) + 1 > 40:
            break
        name = f"{name}_{word}" if name else word
    if not name:
        raise CannotWriteMigration(f"the message {message!r} has no word to name the file by")
    return name


def live_definitions(
    functions: Sequence[str],
    views: Sequence[str],
    schema_dir: Path = live_schema.SCHEMA_DIR,
) -> tuple[list[live_schema.Entry], list[str]]:
    """The live schema's definitions of these functions (every overload of each name) and views,
    and the files they come from (not their grants: a definition replaced keeps them)."""
    found: list[live_schema.Entry] = []
    sources: list[str] = []
    files = {
        name: live_schema.parse(content)
        for name, content in live_schema.committed(schema_dir).items()
        if name not in (live_schema.REVISION, f"{live_schema.SECURITY}.sql")
    }
    wanted = [("function", name) for name in functions] + [("view", name) for name in views]
    for kind, name in wanted:
        matches = [
            (file, entry)
            for file, entries in files.items()
            for entry in entries
            if entry.kind == kind and (entry.name == name or entry.name.startswith(f"{name}("))
        ]
        if not matches:
            raise CannotWriteMigration(f"the live schema has no {kind} named {name!r}")
        for file, entry in matches:
            if entry not in found:
                found.append(entry)
            if file not in sources:
                sources.append(file)
    return found, sources


def write_migration(
    message: str,
    functions: Sequence[str] = (),
    views: Sequence[str] = (),
    *,
    versions_dir: Path | None = None,
    schema_dir: Path = live_schema.SCHEMA_DIR,
    head: str | None = None,
) -> Path:
    """Write the next migration after `head` (default: the migrations' head) into
    `versions_dir` (default: the migrations'), redefining `functions` and `views` as the live
    schema has them; its path."""
    head = head or head_revision()
    if head is None or not head.isdigit():
        raise CannotWriteMigration(f"cannot number the migration after {head!r}")
    described = live_schema.revision_of(live_schema.committed(schema_dir))
    if described != head:
        raise CannotWriteMigration(
            f"the live schema is of revision {described}, the migrations' head is {head}: "
            "run `make schema` first"
        )
    if '"' in message or "\\" in message or "\n" in message:
        raise CannotWriteMigration("the message is one line without quotes or backslashes")
    if not functions and not views:
        raise CannotWriteMigration("name at least one --function or --view to redefine")
    entries, sources = live_definitions(functions, views, schema_dir)
    definitions = "\n\n".join(entry.sql for entry in entries)
    if '"""' in definitions:
        raise CannotWriteMigration('a definition holds """: write this migration by hand')
    revision = f"{int(head) + 1:0{len(head)}d}"
    path = (versions_dir or VERSIONS_DIR) / f"{revision}_{slug(message)}.py"
    if path.exists():
        raise CannotWriteMigration(f"{path} exists")
    path.write_text(
        TEMPLATE.format(
            message=message,
            revision=revision,
            down_revision=head,
            today=date.today().isoformat(),
            sources=", ".join(f"db/schema/{source}" for source in sources),
            upgrade=definitions,
            downgrade=definitions,
        )
    )
    return path
