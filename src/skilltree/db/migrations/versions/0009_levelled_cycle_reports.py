"""cycle reports end: the chain in a refused-cycle error is found breadth-first, level by level

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

Migration 0002 rebuilt the chain of a refused cycle from predecessor links picked by id; when one
statement closed two cycles at once, those links could themselves form a loop and the walk back
never ended (the backend spun holding the tree's lock). Now every skill (or tree) gets its
predecessor once, at the first level it is reached, so the walk back strictly climbs levels.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELLED = r"""
CREATE OR REPLACE FUNCTION skill_dependency_chain(p_skill text, p_prerequisite text) RETURNS text[]
LANGUAGE plpgsql STABLE
SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
-- One chain p_skill -> ... -> p_prerequisite in which each skill needs the next (NULL if none).
-- Breadth-first, level by level: each skill gets its predecessor once, at its first level, so the
-- walk back strictly climbs levels and ends, however many cycles the graph holds right now.
DECLARE
    preds jsonb := jsonb_build_object(p_skill, NULL);
    frontier text[] := ARRAY[p_skill];
    found jsonb;
    chain text[];
    cur text;
BEGIN
    IF NOT skill_needs(p_skill, p_prerequisite) THEN
        RETURN NULL;
    END IF;
    WHILE NOT preds ? p_prerequisite AND cardinality(frontier) > 0 LOOP
        SELECT coalesce(jsonb_object_agg(id, via), '{}'::jsonb), coalesce(array_agg(id), '{}')
        INTO found, frontier
        FROM (
            SELECT DISTINCT ON (d.depends_on_id) d.depends_on_id AS id, d.skill_id AS via
            FROM skill_dependencies d
            WHERE d.skill_id = ANY (frontier) AND NOT preds ? d.depends_on_id
            ORDER BY d.depends_on_id, d.skill_id
        ) AS level;
        preds := preds || found;
    END LOOP;
    chain := ARRAY[p_prerequisite];
    cur := p_prerequisite;
    WHILE cur <> p_skill LOOP
        cur := preds ->> cur;
        chain := cur || chain;
    END LOOP;
    RETURN chain;
END
$$;

CREATE OR REPLACE FUNCTION skill_tree_prerequisites_refuse_cycles() RETURNS trigger
LANGUAGE plpgsql AS $$
-- Tree prerequisites stay acyclic; the graph of trees is small, so a breadth-first search per new
-- edge, level by level (each tree reached once, so the walk back always ends).
DECLARE
    edge record;
    preds jsonb;
    frontier text[];
    found jsonb;
    chain text[];
    cur text;
BEGIN
    -- One lock for the whole (cross-tree) graph, then a fresh snapshot for each query below.
    PERFORM pg_advisory_xact_lock(hashtext('skilltree.skill_tree_prerequisites'), 0);
    FOR edge IN SELECT skill_tree_id, prerequisite_id FROM new_edges ORDER BY 1, 2 LOOP
        preds := jsonb_build_object(edge.prerequisite_id, NULL);
        frontier := ARRAY[edge.prerequisite_id];
        WHILE NOT preds ? edge.skill_tree_id AND cardinality(frontier) > 0 LOOP
            SELECT coalesce(jsonb_object_agg(id, via), '{}'::jsonb), coalesce(array_agg(id), '{}')
            INTO found, frontier
            FROM (
                SELECT DISTINCT ON (p.prerequisite_id) p.prerequisite_id AS id, p.skill_tree_id AS via
                FROM skill_tree_prerequisites p
                WHERE p.skill_tree_id = ANY (frontier) AND NOT preds ? p.prerequisite_id
                ORDER BY p.prerequisite_id, p.skill_tree_id
            ) AS level;
            preds := preds || found;
        END LOOP;
        IF preds ? edge.skill_tree_id THEN
            chain := ARRAY[edge.skill_tree_id];
            cur := edge.skill_tree_id;
            WHILE cur <> edge.prerequisite_id LOOP
                cur := preds ->> cur;
                chain := cur || chain;
            END LOOP;
            chain := edge.skill_tree_id || chain;
            RAISE EXCEPTION 'tree prerequisites would form a cycle: %', array_to_string(chain, ' -> ')
                USING ERRCODE = 'integrity_constraint_violation',
                      CONSTRAINT = 'skill_tree_prerequisites_acyclic',
                      DETAIL = array_to_json(chain)::text;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
"""

# As migration 0002 created them.
PREVIOUS = r"""
CREATE OR REPLACE FUNCTION skill_dependency_chain(p_skill text, p_prerequisite text) RETURNS text[]
LANGUAGE plpgsql STABLE
SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
-- One chain p_skill -> ... -> p_prerequisite in which each skill needs the next (NULL if none).
DECLARE
    preds jsonb;
    chain text[];
    cur text;
BEGIN
    IF NOT skill_needs(p_skill, p_prerequisite) THEN
        RETURN NULL;
    END IF;
    -- Breadth-first predecessor links from p_skill, then walk back from p_prerequisite.
    WITH RECURSIVE bfs(id, via) AS (
        SELECT p_skill, NULL::text
        UNION
        SELECT d.depends_on_id, d.skill_id FROM skill_dependencies d JOIN bfs b ON d.skill_id = b.id
    )
    SELECT jsonb_object_agg(id, via) INTO preds
    FROM (SELECT DISTINCT ON (id) id, via FROM bfs ORDER BY id, via NULLS FIRST) AS links;
    chain := ARRAY[p_prerequisite];
    cur := p_prerequisite;
    WHILE cur <> p_skill LOOP
        cur := preds ->> cur;
        chain := cur || chain;
    END LOOP;
    RETURN chain;
END
$$;

CREATE OR REPLACE FUNCTION skill_tree_prerequisites_refuse_cycles() RETURNS trigger
LANGUAGE plpgsql AS $$
-- Tree prerequisites stay acyclic; the graph of trees is small, so one breadth-first search each.
DECLARE
    edge record;
    preds jsonb;
    chain text[];
    cur text;
BEGIN
    -- One lock for the whole (cross-tree) graph, then a fresh snapshot for each query below.
    PERFORM pg_advisory_xact_lock(hashtext('skilltree.skill_tree_prerequisites'), 0);
    FOR edge IN SELECT skill_tree_id, prerequisite_id FROM new_edges ORDER BY 1, 2 LOOP
        WITH RECURSIVE bfs(id, via) AS (
            SELECT edge.prerequisite_id, NULL::text
            UNION
            SELECT p.prerequisite_id, p.skill_tree_id
            FROM skill_tree_prerequisites p JOIN bfs b ON p.skill_tree_id = b.id
        )
        SELECT jsonb_object_agg(id, via) INTO preds
        FROM (SELECT DISTINCT ON (id) id, via FROM bfs ORDER BY id, via NULLS FIRST) AS links;
        IF preds ? edge.skill_tree_id THEN
            chain := ARRAY[edge.skill_tree_id];
            cur := edge.skill_tree_id;
            WHILE cur <> edge.prerequisite_id LOOP
                cur := preds ->> cur;
                chain := cur || chain;
            END LOOP;
            chain := edge.skill_tree_id || chain;
            RAISE EXCEPTION 'tree prerequisites would form a cycle: %', array_to_string(chain, ' -> ')
                USING ERRCODE = 'integrity_constraint_violation',
                      CONSTRAINT = 'skill_tree_prerequisites_acyclic',
                      DETAIL = array_to_json(chain)::text;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

"""


def upgrade() -> None:
    op.execute(LEVELLED)


def downgrade() -> None:
    op.execute(PREVIOUS)
