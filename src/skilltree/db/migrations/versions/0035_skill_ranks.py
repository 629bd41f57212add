"""graph: what "what next" ranks a skill by, stored per tree by its writers

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07

"What next" ranks the skills a learner can work on by, among other keys, the chain of skills
ahead of each (its longest chain of dependents), which needs the whole graph: the first request
of a tree version in a process read all of it (5-30x a warm request; issue 12). The writers of a
tree now store it (skilltree.graph.ranks, called by catalog.tree_writes after a tree writer's
last write, linear in the tree), so that "what next" reads only its candidates.

- `skill_ranks`: one row per active skill of a ranked tree: its chain ahead, its active direct
  dependents and its active direct prerequisites (0: a root, found by the tree's index).
- `skill_tree_ranks`: the trees whose `skill_ranks` are current.
- `skills_bump_tree_versions` and `skill_dependencies_bump_tree_versions` (the triggers that
  bump a tree's structure version, no new trigger): a skill added, deleted or (de)activated, an
  edge added, changed or removed, whoever writes it, also takes its tree out of
  `skill_tree_ranks` in the same statement, so stale ranks are never read: such a tree is
  answered from its graph, as before, until a tree writer stores its ranks again. A rename or
  a move leaves the ranks current (position ties are read from the skills themselves).

Existing trees are not ranked by this revision (it holds no Python): each is ranked by its next
change through the API or the command line (a re-import of the same file is enough), and
answered from its graph meanwhile.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
CREATE TABLE skill_ranks (
    skill_id text NOT NULL,
    skill_tree_id text NOT NULL,
    chain_ahead integer NOT NULL,
    dependents integer NOT NULL,
    prerequisites integer NOT NULL,
    CONSTRAINT skill_ranks_pkey PRIMARY KEY (skill_id),
    CONSTRAINT skill_ranks_skill_fkey FOREIGN KEY (skill_id, skill_tree_id)
        REFERENCES skills(id, skill_tree_id) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT skill_ranks_counts_check
        CHECK (chain_ahead >= 0 AND dependents >= 0 AND prerequisites >= 0)
);
CREATE INDEX idx_skill_ranks_tree ON skill_ranks (skill_tree_id, prerequisites);
COMMENT ON TABLE skill_ranks IS 'What "what next" ranks an active skill by, of its tree''s graph of active skills: its longest chain of dependents, its direct dependents, its direct prerequisites (0: a root). Written by the tree''s writers (skilltree.graph.ranks); current only while its tree is in skill_tree_ranks.';

CREATE TABLE skill_tree_ranks (
    skill_tree_id text NOT NULL,
    CONSTRAINT skill_tree_ranks_pkey PRIMARY KEY (skill_tree_id),
    CONSTRAINT skill_tree_ranks_skill_tree_id_fkey FOREIGN KEY (skill_tree_id)
        REFERENCES skill_trees(id) ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE skill_tree_ranks IS 'The trees whose skill_ranks are current: a change of a tree''s graph, by any writer, deletes its row (skills_bump_tree_versions, skill_dependencies_bump_tree_versions); skilltree.graph.ranks writes it again with the ranks.';

CREATE OR REPLACE FUNCTION public.skill_dependencies_bump_tree_versions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    -- Every change of edges is a new version of their trees' structure, and their stored ranks
    -- (skill_tree_ranks) are not current any more: a tree writer stores them again.
    IF TG_OP = 'INSERT' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows);
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM old_rows);
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM old_rows);
    ELSE
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows UNION SELECT skill_tree_id FROM old_rows);
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (
            SELECT skill_tree_id FROM new_rows UNION SELECT skill_tree_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION public.skills_bump_tree_versions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    -- Every change of skills is a new version of their trees' structure. A skill added,
    -- deleted or (de)activated also changes its tree's graph: its stored ranks
    -- (skill_tree_ranks) are not current any more, and a tree writer stores them again; a
    -- rename or a move leaves them current.
    IF TG_OP = 'INSERT' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows);
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM old_rows);
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM old_rows);
    ELSE
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows UNION SELECT skill_tree_id FROM old_rows);
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (
            SELECT o.skill_tree_id FROM old_rows o
            WHERE NOT EXISTS (
                SELECT FROM new_rows n
                WHERE n.id = o.id AND n.skill_tree_id = o.skill_tree_id
                  AND n.is_active = o.is_active)
            UNION
            SELECT n.skill_tree_id FROM new_rows n
            WHERE NOT EXISTS (
                SELECT FROM old_rows o
                WHERE o.id = n.id AND o.skill_tree_id = n.skill_tree_id
                  AND o.is_active = n.is_active));
    END IF;
    RETURN NULL;
END
$function$;
"""

DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION public.skill_dependencies_bump_tree_versions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM old_rows);
    ELSE
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows UNION SELECT skill_tree_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION public.skills_bump_tree_versions()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM old_rows);
    ELSE
        UPDATE skill_trees SET structure_version = structure_version + 1
        WHERE id IN (SELECT skill_tree_id FROM new_rows UNION SELECT skill_tree_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$function$;

DROP TABLE skill_tree_ranks;
DROP TABLE skill_ranks;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
