"""Python's cyclic garbage collector, tuned once per process for serving (never paused per
request).

A SkillTree process holds a few hundred thousand long-lived objects from start-up (modules,
the app, its schemas) and makes many young ones per request, a tree import hundreds of
thousands. With the defaults, every 700 net new objects start a young collection, and each time
the survivors grow by a quarter a full collection walks every object in the process again: a
third of a 100,000-skill import (13.6 s of CPU against 9.1 s with the collector paused). So,
once, after start-up (`tune_collector`, called by the command line and by `skilltree serve`
once it has built the app):

- `gc.freeze()` moves everything alive then out of the collector's reach for good: start-up
  objects are never walked again (nothing is lost: they live as long as the process anyway);
- the young generation's threshold goes from 700 to GEN0_THRESHOLD objects, so a burst of
  allocations (a tree file, a graph) is looked at a few times instead of thousands.

Cached tree graphs add nothing to the collector's work (graph.tree_graphs keeps plain tuples).
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000
"""New container objects (net of those freed) between two young collections (Python: 700)."""


def tune_collector() -> None:
    """After start-up: collect once, freeze what is alive, collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, older, oldest)
