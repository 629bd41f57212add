"""`python -m benchmarks`: run every benchmark in turn (the million learners only with
BENCH_MILLION=1: its build takes half an hour, see benchmarks/million.py)."""

import os

from benchmarks import (
    bench_analytics,
    bench_graph,
    bench_heartbeats,
    bench_item_analysis,
    bench_logins,
    bench_map_layout,
    bench_mastery,
    bench_pooling,
    bench_prisma,
    bench_progress,
    bench_reviews,
    bench_search,
    bench_tree_document,
    bench_web_map,
    bench_workers,
)

bench_tree_document.main()
bench_prisma.main()
bench_graph.main()
bench_progress.main()
bench_analytics.main()
bench_search.main()
bench_logins.main()
bench_pooling.main()
bench_map_layout.main()
bench_web_map.main()
bench_workers.main()
bench_reviews.main()
bench_mastery.main()
bench_heartbeats.main()
bench_item_analysis.main()
if os.environ.get("BENCH_MILLION") == "1":
    from benchmarks import million

    million.main(["all"])
