"""acyclic prerequisites: skill and tree prerequisite graphs refuse cycles at any depth

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Statement-level triggers, so every writer is checked (the services, an import, psql) and a bulk
insert pays one O(skills + edges) check per tree instead of one search per edge. Each trigger takes
a transaction-scoped advisory lock per tree before it looks, so two transactions that would each
close half of a cycle are serialised and the second one sees the first one's edge.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRAPH_GUARDS = r"""
CREATE FUNCTION skill_needs(p_skill text, p_prerequisite text) RETURNS boolean
LANGUAGE plpgsql STABLE
-- Index probes, never hash joins over the whole edge table (statistics may be stale mid-import).
SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
-- Whether p_skill needs p_prerequisite, directly or through other skills, at any depth.
DECLARE
    bound CONSTANT int := 512;
    seen int;
    hit boolean;
BEGIN
    -- Most skills have few dependents or few prerequisites: search each side within a bound
    -- first, so a deep graph only costs a full search when both sides are large.
    WITH RECURSIVE dependents(id) AS (
        SELECT p_prerequisite
        UNION
        SELECT d.skill_id FROM skill_dependencies d JOIN dependents r ON d.depends_on_id = r.id
    )
    SELECT count(*), coalesce(bool_or(id = p_skill), false) INTO seen, hit
    FROM (SELECT id FROM dependents LIMIT bound + 1) AS side;
    IF hit OR seen <= bound THEN
        RETURN hit;
    END IF;
    WITH RECURSIVE prerequisites(id) AS (
        SELECT p_skill
        UNION
        SELECT d.depends_on_id FROM skill_dependencies d JOIN prerequisites r ON d.skill_id = r.id
    )
    SELECT count(*), coalesce(bool_or(id = p_prerequisite), false) INTO seen, hit
    FROM (SELECT id FROM prerequisites LIMIT bound + 1) AS side;
    IF hit OR seen <= bound THEN
        RETURN hit;
    END IF;
    WITH RECURSIVE prerequisites(id) AS (
        SELECT p_skill
        UNION
        SELECT d.depends_on_id FROM skill_dependencies d JOIN prerequisites r ON d.skill_id = r.id
    )
    SELECT EXISTS (SELECT 1 FROM prerequisites WHERE id = p_prerequisite) INTO hit;
    RETURN hit;
END
$$;

CREATE FUNCTION skill_dependency_chain(p_skill text, p_prerequisite text) RETURNS text[]
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

CREATE FUNCTION skill_tree_cycle(p_tree text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
-- One cycle of tree p_tree's prerequisite graph (first skill repeated last), or NULL when acyclic.
-- Kahn's algorithm over integer arrays: O(skills + edges), for checking large batches at once.
DECLARE
    ids text[];
    n int;
    needers int[];      -- the skills needing each skill, grouped by it and located by `first`
    prereqs int[];
    counts int[];
    first int[];
    missing int[];      -- prerequisites not yet satisfied, per skill
    queue int[];
    head int := 1;
    done int := 0;
    x int;
    k int;
    cur text;
    seen text[];
BEGIN
    SELECT array_agg(id ORDER BY id) INTO ids FROM skills WHERE skill_tree_id = p_tree;
    n := coalesce(array_length(ids, 1), 0);
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    missing := array_fill(0, ARRAY[n]);
    first := array_fill(1, ARRAY[n + 1]);
    WITH idx AS (SELECT id, ordinality::int AS i FROM unnest(ids) WITH ORDINALITY AS t(id)),
    e AS (
        SELECT s.i AS s, p.i AS p
        FROM skill_dependencies d
        JOIN idx s ON s.id = d.skill_id
        JOIN idx p ON p.id = d.depends_on_id
        WHERE d.skill_tree_id = p_tree
    )
    SELECT coalesce(array_agg(s ORDER BY p, s), '{}'), coalesce(array_agg(p ORDER BY p, s), '{}')
    INTO needers, prereqs FROM e;
    -- missing[s] counts s's prerequisites; first[p] .. first[p + 1] - 1 index the skills needing p.
    FOREACH x IN ARRAY needers LOOP
        missing[x] := missing[x] + 1;
    END LOOP;
    counts := array_fill(0, ARRAY[n]);
    FOREACH x IN ARRAY prereqs LOOP
        counts[x] := counts[x] + 1;
    END LOOP;
    FOR k IN 1 .. n LOOP
        first[k + 1] := first[k] + counts[k];
    END LOOP;
    queue := ARRAY(SELECT i FROM generate_series(1, n) AS i WHERE missing[i] = 0);
    WHILE head <= coalesce(array_length(queue, 1), 0) LOOP
        x := queue[head];
        head := head + 1;
        done := done + 1;
        FOR k IN first[x] .. first[x + 1] - 1 LOOP
            missing[needers[k]] := missing[needers[k]] - 1;
            IF missing[needers[k]] = 0 THEN
                queue := queue || needers[k];
            END IF;
        END LOOP;
    END LOOP;
    IF done = n THEN
        RETURN NULL;
    END IF;
    -- Every skill left has an unsatisfied prerequisite that is also left: follow them to a repeat.
    SELECT ids[i] INTO cur FROM generate_series(1, n) AS i WHERE missing[i] > 0 LIMIT 1;
    seen := ARRAY[cur];
    LOOP
        SELECT d.depends_on_id INTO cur
        FROM skill_dependencies d
        WHERE d.skill_id = cur
          AND missing[array_position(ids, d.depends_on_id)] > 0
        ORDER BY d.depends_on_id LIMIT 1;
        IF cur = ANY (seen) THEN
            RETURN seen[array_position(seen, cur):] || cur;
        END IF;
        seen := seen || cur;
    END LOOP;
END
$$;

CREATE FUNCTION skill_dependencies_refuse_cycles() RETURNS trigger
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

CREATE TRIGGER skill_dependencies_acyclic_insert AFTER INSERT ON skill_dependencies
    REFERENCING NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION skill_dependencies_refuse_cycles();
CREATE TRIGGER skill_dependencies_acyclic_update AFTER UPDATE ON skill_dependencies
    REFERENCING NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION skill_dependencies_refuse_cycles();

CREATE FUNCTION skill_tree_prerequisites_refuse_cycles() RETURNS trigger
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

CREATE TRIGGER skill_tree_prerequisites_acyclic_insert AFTER INSERT ON skill_tree_prerequisites
    REFERENCING NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION skill_tree_prerequisites_refuse_cycles();
CREATE TRIGGER skill_tree_prerequisites_acyclic_update AFTER UPDATE ON skill_tree_prerequisites
    REFERENCING NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION skill_tree_prerequisites_refuse_cycles();
"""


def upgrade() -> None:
    op.execute(GRAPH_GUARDS)


def downgrade() -> None:
    for trigger, table in (
        ("skill_dependencies_acyclic_insert", "skill_dependencies"),
        ("skill_dependencies_acyclic_update", "skill_dependencies"),
        ("skill_tree_prerequisites_acyclic_insert", "skill_tree_prerequisites"),
        ("skill_tree_prerequisites_acyclic_update", "skill_tree_prerequisites"),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    op.execute("DROP FUNCTION skill_tree_prerequisites_refuse_cycles()")
    op.execute("DROP FUNCTION skill_dependencies_refuse_cycles()")
    op.execute("DROP FUNCTION skill_tree_cycle(text)")
    op.execute("DROP FUNCTION skill_dependency_chain(text, text)")
    op.execute("DROP FUNCTION skill_needs(text, text)")
