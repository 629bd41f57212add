"""Seed data: the spec's seed.ts (`load_spec_seed`) and a realistic demo (`load_demo`).

Both are idempotent (rows are matched by natural key and never updated) and only flush.
"""

from skilltree.seed.demo import load_demo
from skilltree.seed.spec import load_spec_seed

__all__ = ["load_demo", "load_spec_seed"]
