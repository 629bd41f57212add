"""What "what next" ranks a skill by that depends on its whole tree, stored per tree version.

"What next" (progress.paths) ranks the skills a learner can work on by, among other keys, the
chain of skills ahead of each (its longest chain of dependents) and its direct dependents: the
chain needs the whole graph, which a learner's request must not read (issue 12: the first
"next" of a tree version in a process read it all, 5-30x a warm one). So the writers of a tree
store them: every change of a tree goes through `catalog.tree_writes`, which calls `refresh`
for each tree it changed after its last write, in the same transaction; "next" then reads the
ranks of its candidates only (progress.repository.NEXT_SKILLS).

`skill_ranks` holds one row per active skill (its chain ahead, active dependents and active
prerequisites, 0 for a root); `skill_tree_ranks` names the trees whose rows are current, with
the count of their active skills (what enrolling records as the enrolment's total, without
counting the tree's skills: migration 0046). Any
change of a tree's graph (a skill added, deleted, (de)activated; an edge added or removed),
whoever writes it, deletes the tree's mark in the same statement (triggers in
db/schema/graph.sql): a tree changed by a writer that did not refresh it (plain SQL, a seed) is
answered from its graph, as before, never from stale ranks.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.graph import repository, snapshots
from skilltree.graph.tree_graphs import TreeGraph


def ranks_of(graph: TreeGraph) -> dict[str, repository.Rank]:
    """Each active skill's rank facts in `graph`: (chain ahead, direct dependents, direct
    prerequisites); linear in skills + edges. (The chains are the graph's, which its stored
    copy keeps too: graph.snapshots.)"""
    needs = graph.needs
    dependents = dict.fromkeys(needs, 0)
    for prerequisites in needs.values():
        for prerequisite in prerequisites:
            dependents[prerequisite] += 1
    chains = graph.chain_ahead
    return {skill: (chains[skill], dependents[skill], len(needs[skill])) for skill in needs}


def refresh(session: Session, tree_id: str) -> None:
    """Store the ranks of tree `tree_id` as the session sees it (its writes flushed), writing
    only the rows that changed, and mark them current; and its graph (graph.snapshots); nothing
    for a tree that is gone. Linear in the tree's skills and edges: one read of its active graph
    and of the stored ranks, one statement storing the graph."""
    session.flush()
    graph = repository.graph_from_rows(session, tree_id)
    if graph is None:
        return
    ranks = ranks_of(graph)
    stored = repository.stored_ranks(session, tree_id)
    changed = {skill: rank for skill, rank in ranks.items() if stored.get(skill) != rank}
    repository.write_ranks(session, tree_id, changed, stored.keys() - ranks.keys(), len(ranks))
    snapshots.store_graph(session, graph)


UNRANKED = """
    SELECT t.id FROM skill_trees t
    WHERE NOT EXISTS (SELECT FROM skill_tree_ranks r WHERE r.skill_tree_id = t.id)
    ORDER BY t.id
    FOR UPDATE OF t
"""


def rank_unranked(session: Session) -> int:
    """Store the ranks of every tree whose ranks are not current (trees made before migration
    0035, by a seed or by plain SQL), each held as a tree writer holds it (FOR UPDATE: a change
    in flight finishes first); how many. `skilltree db upgrade` and `db seed` run it."""
    trees = list(session.scalars(text(UNRANKED)))
    for tree_id in trees:
        refresh(session, tree_id)
    return len(trees)
