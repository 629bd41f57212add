"""fast cycle reports: one breadth-first query for a refused cycle's chain, and short messages

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22

Migration 0009 made cycle reports always end by searching level by level, one query per level
with the whole set of reached skills passed along: quadratic, about 6 s for a 5,000-skill cycle,
with the tree's lock held meanwhile. Now one recursive query finds the chain (about 50 ms there).
The error message names a long cycle by its first and last skills; DETAIL still lists all of it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAST = r"""
CREATE OR REPLACE FUNCTION skill_dependency_chain(p_skill text, p_prerequisite text) RETURNS text[]
LANGUAGE plpgsql STABLE
SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
-- One chain p_skill -> ... -> p_prerequisite in which each skill needs the next (NULL if none).
-- One breadth-first recursive query collects (skill, predecessor, level) links, each link once;
-- every skill then takes a predecessor from the lowest level it was reached at, so the walk back
-- strictly descends levels and always ends, however many cycles the graph holds right now.
-- The level is an interval of n days minus n*24 hours: PostgreSQL compares intervals with a day
-- as 24 hours, so UNION sees every level as equal and keeps each link once (an integer level
-- would make UNION keep a link once per level: exponential on diamonds), while the day part still
-- counts the level.
DECLARE
    preds jsonb;
    chain text[];
    cur text;
BEGIN
    WITH RECURSIVE bfs(id, via, level) AS (
        SELECT p_skill, NULL::text, interval '0'
        UNION
        SELECT d.depends_on_id, d.skill_id, b.level + interval '1 day' - interval '24 hours'
        FROM skill_dependencies d JOIN bfs b ON d.skill_id = b.id
    )
    SELECT jsonb_object_agg(id, via) INTO preds
    FROM (
        SELECT DISTINCT ON (id) id, via FROM bfs
        ORDER BY id, extract(day FROM level), via NULLS FIRST
    ) AS links;
    IF NOT preds ? p_prerequisite THEN
        RETURN NULL;
    END IF;
    cur := p_prerequisite;
    chain := ARRAY[cur];
    WHILE cur <> p_skill LOOP
        cur := preds ->> cur;
        chain := array_append(chain, cur);
    END LOOP;
    RETURN ARRAY(SELECT chain[i] FROM generate_subscripts(chain, 1, true) AS i);
END
$$;

CREATE OR REPLACE FUNCTION skill_dependencies_refuse_cycles() RETURNS trigger
LANGUAGE plpgsql AS $$
-- Statement-level: one check per statement, so bulk imports pay O(skills + edges) per tree.
DECLARE
    tree text;
    edge record;
    chain text[];
    edge_count int;
BEGIN
    -- Serialise edge writes per tree (ordered, so two trees cannot deadlock), then look again
    -- with a fresh snapshot: two transactions cannot each close half of one cycle.
    FOR tree IN SELECT DISTINCT skill_tree_id FROM new_edges ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(hashtext('skilltree.skill_dependencies'), hashtext(tree));
    END LOOP;
    SELECT count(*) INTO edge_count FROM new_edges;
    IF edge_count <= 32 THEN
        FOR edge IN SELECT skill_id, depends_on_id FROM new_edges ORDER BY 1, 2 LOOP
            -- The new edge closes a cycle when its prerequisite already needs its skill.
            IF skill_needs(edge.depends_on_id, edge.skill_id) THEN
                chain := edge.skill_id || skill_dependency_chain(edge.depends_on_id, edge.skill_id);
                EXIT;
            END IF;
        END LOOP;
    ELSE
        FOR tree IN SELECT DISTINCT skill_tree_id FROM new_edges ORDER BY 1 LOOP
            chain := skill_tree_cycle(tree);
            EXIT WHEN chain IS NOT NULL;
        END LOOP;
    END IF;
    IF chain IS NOT NULL THEN
        -- The message names a long cycle by its ends; DETAIL keeps every skill of it.
        RAISE EXCEPTION 'skill prerequisites would form a cycle of % skills: %',
                cardinality(chain) - 1,
                CASE WHEN cardinality(chain) <= 12 THEN array_to_string(chain, ' -> ')
                     ELSE array_to_string(chain[1:5], ' -> ') || ' -> ... -> '
                          || array_to_string(chain[cardinality(chain) - 4:], ' -> ') END
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'skill_dependencies_acyclic',
                  DETAIL = array_to_json(chain)::text;
    END IF;
    RETURN NULL;
END
$$;

"""

# As migrations 0009 (the chain) and 0002 (the trigger) left them.
PREVIOUS = r"""
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
CREATE OR REPLACE FUNCTION skill_dependencies_refuse_cycles() RETURNS trigger
LANGUAGE plpgsql AS $$
-- Statement-level: one check per statement, so bulk imports pay O(skills + edges) per tree.
DECLARE
    tree text;
    edge record;
    chain text[];
    edge_count int;
BEGIN
    -- Serialise edge writes per tree (ordered, so two trees cannot deadlock), then look again
    -- with a fresh snapshot: two transactions cannot each close half of one cycle.
    FOR tree IN SELECT DISTINCT skill_tree_id FROM new_edges ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(hashtext('skilltree.skill_dependencies'), hashtext(tree));
    END LOOP;
    SELECT count(*) INTO edge_count FROM new_edges;
    IF edge_count <= 32 THEN
        FOR edge IN SELECT skill_id, depends_on_id FROM new_edges ORDER BY 1, 2 LOOP
            -- The new edge closes a cycle when its prerequisite already needs its skill.
            IF skill_needs(edge.depends_on_id, edge.skill_id) THEN
                chain := edge.skill_id || skill_dependency_chain(edge.depends_on_id, edge.skill_id);
                EXIT;
            END IF;
        END LOOP;
    ELSE
        FOR tree IN SELECT DISTINCT skill_tree_id FROM new_edges ORDER BY 1 LOOP
            chain := skill_tree_cycle(tree);
            EXIT WHEN chain IS NOT NULL;
        END LOOP;
    END IF;
    IF chain IS NOT NULL THEN
        RAISE EXCEPTION 'skill prerequisites would form a cycle: %', array_to_string(chain, ' -> ')
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'skill_dependencies_acyclic',
                  DETAIL = array_to_json(chain)::text;
    END IF;
    RETURN NULL;
END
$$;

"""


def upgrade() -> None:
    op.execute(FAST)


def downgrade() -> None:
    op.execute(PREVIOUS)
