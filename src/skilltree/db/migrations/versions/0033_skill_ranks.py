"""graph: what "what next" ranks a skill by, stored per tree by its writers

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07

"What next" ranks the skills a learner can work on by, among other keys, the chain of skills
ahead of each (its longest chain of dependents), which needs the whole graph: the first request
of a tree version in a process read all of it (5-30x a warm request; issue 12). The writers of a
tree now store it (skilltree.graph.ranks, called by catalog.tree_writes after a tree writer's
last write, linear in the tree), so that "what next" reads only its candidates.

- `skill_ranks`: one row per active skill of a ranked tree: its chain ahead, its active direct
  dependents and its active direct prerequisites (0: a root, found by the tree's index).
- `skill_tree_ranks`: the trees whose `skill_ranks` are current.
- `skills_forget_ranks` and `skill_dependencies_forget_ranks`: a skill added, deleted or
  (de)activated, an edge added, changed or removed, whoever writes it, takes its tree out of
  `skill_tree_ranks` in the same statement, so stale ranks are never read: such a tree is
  answered from its graph, as before, until a tree writer stores its ranks again.

Existing trees are not ranked by this revision (it holds no Python): each is ranked by its next
change through the API or the command line (a re-import of the same file is enough), and
answered from its graph meanwhile.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
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
COMMENT ON TABLE skill_tree_ranks IS 'The trees whose skill_ranks are current: a change of a tree''s graph, by any writer, deletes its row (skills_forget_ranks, skill_dependencies_forget_ranks); skilltree.graph.ranks writes it again with the ranks.';

CREATE FUNCTION skills_forget_ranks() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A skill added, deleted or (de)activated changes its tree's graph: the tree's stored ranks
    -- are not current any more (a tree writer stores them again after its last write).
    IF TG_OP = 'INSERT' THEN
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM old_rows);
    ELSE
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
$$;
CREATE TRIGGER skills_forget_ranks_insert AFTER INSERT ON skills
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION skills_forget_ranks();
CREATE TRIGGER skills_forget_ranks_update AFTER UPDATE ON skills
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skills_forget_ranks();
CREATE TRIGGER skills_forget_ranks_delete AFTER DELETE ON skills
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION skills_forget_ranks();

CREATE FUNCTION skill_dependencies_forget_ranks() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- An edge added, changed or removed changes its tree's graph: as skills_forget_ranks.
    IF TG_OP = 'INSERT' THEN
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (SELECT skill_tree_id FROM old_rows);
    ELSE
        DELETE FROM skill_tree_ranks WHERE skill_tree_id IN (
            SELECT skill_tree_id FROM old_rows UNION SELECT skill_tree_id FROM new_rows);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER skill_dependencies_forget_ranks_insert AFTER INSERT ON skill_dependencies
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_dependencies_forget_ranks();
CREATE TRIGGER skill_dependencies_forget_ranks_update AFTER UPDATE ON skill_dependencies
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_dependencies_forget_ranks();
CREATE TRIGGER skill_dependencies_forget_ranks_delete AFTER DELETE ON skill_dependencies
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION skill_dependencies_forget_ranks();
"""

DOWNGRADE = r"""
DROP TRIGGER skill_dependencies_forget_ranks_delete ON skill_dependencies;
DROP TRIGGER skill_dependencies_forget_ranks_update ON skill_dependencies;
DROP TRIGGER skill_dependencies_forget_ranks_insert ON skill_dependencies;
DROP FUNCTION skill_dependencies_forget_ranks();
DROP TRIGGER skills_forget_ranks_delete ON skills;
DROP TRIGGER skills_forget_ranks_update ON skills;
DROP TRIGGER skills_forget_ranks_insert ON skills;
DROP FUNCTION skills_forget_ranks();
DROP TABLE skill_tree_ranks;
DROP TABLE skill_ranks;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
