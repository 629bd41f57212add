"""search: weighted documents in a configurable text-search configuration, and trigram indexes

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22

The generated `search_vector` columns of 0001 were hard-wired to 'english' and left out tags and
learning objectives. Now triggers keep them, in the configuration stored in the one-row table
`search_configuration` (what queries read) and passed to the triggers as their argument; both are
set by search_use_config(), which `skilltree search reindex` calls before rebuilding every
document in the same transaction, so documents and queries always use the same configuration:
skills: name A, short name B, description and learning objectives C;
trees: name A, tags B, short description and description C.
pg_trgm (a trusted extension: the database owner may create it) indexes the names for typo
tolerance (word similarity) and type-ahead (word prefixes).
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from skilltree.config import get_settings

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "skilltree_app"

UPGRADE = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE search_configuration (
    id boolean DEFAULT true NOT NULL,
    config regconfig DEFAULT 'english'::regconfig NOT NULL,
    CONSTRAINT search_configuration_pkey PRIMARY KEY (id),
    CONSTRAINT search_configuration_single_row_check CHECK (id)
);
-- The API reads it; only the owner (the reindex command) changes it.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON search_configuration FROM {APP_ROLE};
"""

DOCUMENTS = f"""
CREATE FUNCTION skill_search_document(
    cfg regconfig, name text, short_name text, description text, objectives text[]
) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(cfg, coalesce(name, '')), 'A')
        || setweight(to_tsvector(cfg, coalesce(short_name, '')), 'B')
        || setweight(to_tsvector(cfg, coalesce(description, '')), 'C')
        || setweight(to_tsvector(cfg, coalesce(array_to_string(objectives, ' '), '')), 'C')
$$;

CREATE FUNCTION tree_search_document(
    cfg regconfig, name text, tags text[], short_description text, description text
) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(cfg, coalesce(name, '')), 'A')
        || setweight(to_tsvector(cfg, coalesce(array_to_string(tags, ' '), '')), 'B')
        || setweight(to_tsvector(cfg, coalesce(short_description, '')), 'C')
        || setweight(to_tsvector(cfg, coalesce(description, '')), 'C')
$$;

-- The triggers take the configuration as their argument (a constant per row: no look-up per
-- row, which a COPY of 100,000 skills would feel); search_use_config keeps it and the table equal.
CREATE FUNCTION skills_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig := TG_ARGV[0];
BEGIN
    NEW.search_vector := skill_search_document(
        cfg, NEW.name, NEW.short_name, NEW.description, NEW.learning_objectives);
    RETURN NEW;
END
$$;

CREATE FUNCTION skill_trees_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig := TG_ARGV[0];
BEGIN
    NEW.search_vector := tree_search_document(
        cfg, NEW.name, NEW.tags, NEW.short_description, NEW.description);
    RETURN NEW;
END
$$;

CREATE FUNCTION search_use_config(cfg regconfig) RETURNS void LANGUAGE plpgsql AS $$
-- Make `cfg` the configuration of queries (the table) and of documents written from now on (the
-- triggers); the caller rebuilds the existing documents.
BEGIN
    UPDATE search_configuration SET config = cfg;
    DROP TRIGGER IF EXISTS skills_search_vector ON skills;
    DROP TRIGGER IF EXISTS skill_trees_search_vector ON skill_trees;
    EXECUTE format(
        'CREATE TRIGGER skills_search_vector BEFORE INSERT OR UPDATE OF name, short_name, '
        'description, learning_objectives, search_vector ON skills '
        'FOR EACH ROW EXECUTE FUNCTION skills_search_vector(%L)', cfg);
    EXECUTE format(
        'CREATE TRIGGER skill_trees_search_vector BEFORE INSERT OR UPDATE OF name, tags, '
        'short_description, description, search_vector ON skill_trees '
        'FOR EACH ROW EXECUTE FUNCTION skill_trees_search_vector(%L)', cfg);
END
$$;
REVOKE EXECUTE ON FUNCTION search_use_config(regconfig) FROM PUBLIC, {APP_ROLE};

ALTER TABLE skills ALTER COLUMN search_vector DROP EXPRESSION;
ALTER TABLE skill_trees ALTER COLUMN search_vector DROP EXPRESSION;
-- Documents gain tags and learning objectives; no content changes, so updated_at stays.
ALTER TABLE skills DISABLE TRIGGER skills_set_updated_at;
ALTER TABLE skill_trees DISABLE TRIGGER skill_trees_set_updated_at;
UPDATE skills SET search_vector = skill_search_document(
    (SELECT config FROM search_configuration), name, short_name, description, learning_objectives);
UPDATE skill_trees SET search_vector = tree_search_document(
    (SELECT config FROM search_configuration), name, tags, short_description, description);
ALTER TABLE skills ENABLE TRIGGER skills_set_updated_at;
ALTER TABLE skill_trees ENABLE TRIGGER skill_trees_set_updated_at;
ALTER TABLE skills ALTER COLUMN search_vector SET NOT NULL;
ALTER TABLE skill_trees ALTER COLUMN search_vector SET NOT NULL;

SELECT search_use_config(config) FROM search_configuration;

CREATE INDEX idx_skill_name_trgm ON skills USING gin (name gin_trgm_ops);
CREATE INDEX idx_tree_name_trgm ON skill_trees USING gin (name gin_trgm_ops);
"""

GENERATED = {
    "skills": (
        "idx_skill_fulltext",
        "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
        "setweight(to_tsvector('english'::regconfig, coalesce(short_name, '')), 'B') || "
        "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')",
    ),
    "skill_trees": (
        "idx_tree_fulltext",
        "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
        "setweight(to_tsvector('english'::regconfig, coalesce(short_description, '')), 'B') || "
        "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')",
    ),
}


def upgrade() -> None:
    # Documents start in the configured text-search configuration (docs/search.md).
    config = get_settings().text_search_config
    op.execute(UPGRADE)
    op.get_bind().execute(
        text("INSERT INTO search_configuration (config) VALUES (CAST(:config AS regconfig))"),
        {"config": config},
    )
    op.execute(DOCUMENTS)


def downgrade() -> None:
    op.execute("DROP INDEX idx_tree_name_trgm")
    op.execute("DROP INDEX idx_skill_name_trgm")
    op.execute("DROP TRIGGER skill_trees_search_vector ON skill_trees")
    op.execute("DROP TRIGGER skills_search_vector ON skills")
    for table, (index, document) in GENERATED.items():
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({document}) STORED NOT NULL"  # as 0001 made it
        )
        op.execute(f"CREATE INDEX {index} ON {table} USING gin (search_vector)")
    for function in (
        "search_use_config(regconfig)",
        "skill_trees_search_vector()",
        "skills_search_vector()",
        "tree_search_document(regconfig, text, text[], text, text)",
        "skill_search_document(regconfig, text, text, text, text[])",
    ):
        # IF EXISTS: the first version of this revision had no search_use_config.
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TABLE search_configuration")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
