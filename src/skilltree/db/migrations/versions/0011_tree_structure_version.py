"""skill_trees.structure_version: bumped by any change to what a tree's document shows

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22

Any write to the tree's row, its skills, its prerequisite edges, its tree prerequisites or its
category's name and slug increments the tree's version, whatever the writer: a copy of the tree's
document made at version v is exactly right while the version is still v. Statement-level
triggers, so a bulk import bumps each tree once per statement.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column naming the tree) of each table whose rows belong to a tree's document.
CHILDREN = (
    ("skills", "skill_tree_id"),
    ("skill_dependencies", "skill_tree_id"),
    ("skill_tree_prerequisites", "skill_tree_id"),
)

BUMP_OWN = """
CREATE FUNCTION skill_trees_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A change of the row itself; a bump asked for by a child table already moved it.
    IF NEW.structure_version = OLD.structure_version THEN
        NEW.structure_version := OLD.structure_version + 1;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER skill_trees_structure_version BEFORE UPDATE ON skill_trees
    FOR EACH ROW EXECUTE FUNCTION skill_trees_bump_version();

CREATE FUNCTION skill_categories_bump_tree_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name OR NEW.slug IS DISTINCT FROM OLD.slug THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE category_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER skill_categories_tree_versions AFTER UPDATE ON skill_categories
    FOR EACH ROW EXECUTE FUNCTION skill_categories_bump_tree_versions();
"""

BUMP_FROM_CHILD = """
CREATE FUNCTION {table}_bump_tree_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT {column} FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT {column} FROM old_rows);
    ELSE
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT {column} FROM new_rows UNION SELECT {column} FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {table}_tree_version_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_bump_tree_versions();
CREATE TRIGGER {table}_tree_version_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_bump_tree_versions();
CREATE TRIGGER {table}_tree_version_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_bump_tree_versions();
"""


def upgrade() -> None:
    op.add_column(
        "skill_trees",
        sa.Column("structure_version", sa.BigInteger(), server_default="1", nullable=False),
    )
    op.execute(BUMP_OWN)
    for table, column in CHILDREN:
        op.execute(BUMP_FROM_CHILD.format(table=table, column=column))


def downgrade() -> None:
    for table, _ in CHILDREN:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_tree_version_{event} ON {table}")
        op.execute(f"DROP FUNCTION {table}_bump_tree_versions()")
    op.execute("DROP TRIGGER skill_categories_tree_versions ON skill_categories")
    op.execute("DROP FUNCTION skill_categories_bump_tree_versions()")
    op.execute("DROP TRIGGER skill_trees_structure_version ON skill_trees")
    op.execute("DROP FUNCTION skill_trees_bump_version()")
    op.drop_column("skill_trees", "structure_version")
