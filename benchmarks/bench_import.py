"""Tree-file import of generated 10,000- and 100,000-skill trees, against a plain COPY floor.

Run from the repository root: `python -m benchmarks.bench_import [SIZE ...]`. Creates and drops its
own database on DATABASE_URL's server (or the embedded one) and prints a markdown table. Each size
runs in its own process, so its peak RSS (getrusage) is that import's alone:

1. import the file into a tree that does not exist yet (`skilltree tree import`'s service call,
   from the file's bytes to the commit: parse, validate, lay out, COPY, insert, cycle check);
2. re-import the same file (nothing changes: every skill is compared, none written);
3. re-import an edited file (10% of skills renamed, 1% removed, 1% added, their edges with them);
4. the floor: the same skill and edge rows as the first import wrote, loaded by a plain psycopg
   COPY into a new tree in one transaction (rows built before the clock starts).
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from benchmarks.common import libpq_dsn, machine, throwaway_database, today
from skilltree.db import migrate
from skilltree.db.base import new_id
from skilltree.db.session import create_db_engine, unit_of_work
from skilltree.treefile import service

SIZES = (10_000, 100_000)
WIDTH = {10_000: 100, 100_000: 400}
"""Skills per layer: 100 layers of 100, 250 layers of 400."""
TARGET_SECONDS = {10_000: 5.0, 100_000: 60.0}
SEED = 20250914
CATEGORY = "benchmarks"
TYPES = ("KNOWLEDGE", "PRACTICAL", "PROJECT", "ASSESSMENT", "MILESTONE")
LEVELS = ("BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT")
COLUMNS = (
    "key, name, short_name, description, learning_objectives, skill_type, difficulty, "
    "estimated_minutes, xp_value, position_x, position_y, node_size, content, resources, "
    "assessments, is_active, is_optional, is_milestone"
)
"""The skill columns an import writes (the generated trees have no parent skills)."""


def generate(size: int, slug: str, seed: int = SEED) -> dict[str, Any]:
    """A tree file: a layered DAG, each skill past the first layer needing 1-3 skills of the
    three layers before it; no positions (the import lays them out)."""
    rng = random.Random(seed)
    width = WIDTH.get(size, 100)
    layers = -(-size // width)
    skills: list[dict[str, Any]] = []
    keys_by_layer: list[list[str]] = []
    for layer in range(layers):
        earlier = [k for previous in keys_by_layer[-3:] for k in previous]
        keys: list[str] = []
        for column in range(min(width, size - len(skills))):
            key = f"s{layer}-{column}"
            keys.append(key)
            skills.append(
                {
                    "key": key,
                    "name": f"Skill {layer}.{column}",
                    "shortName": f"S{layer}.{column}",
                    "description": f"Layer {layer}, column {column}: " + "lorem ipsum " * 12,
                    "learningObjectives": [f"Objective {n} of {layer}.{column}" for n in (1, 2, 3)],
                    "skillType": rng.choice(TYPES),
                    "difficulty": LEVELS[layer * 4 // layers],
                    "estimatedMinutes": rng.randrange(15, 240, 15),
                    "xpValue": rng.choice((10, 25, 50, 75)),
                    "dependencies": rng.sample(earlier, rng.randint(1, 3)) if earlier else [],
                    "nodeSize": rng.randint(1, 3),
                    "content": {
                        "type": "structured",
                        "modules": [
                            {
                                "title": "Basics",
                                "type": "article",
                                "estimatedMinutes": 30,
                                "resources": [],
                            }
                        ],
                    },
                    "resources": [
                        {"type": "link", "title": "Docs", "url": f"https://example.org/{layer}"}
                    ],
                    "isMilestone": column == 0,
                }
            )
        keys_by_layer.append(keys)
    tree = {
        "slug": slug,
        "name": f"Generated tree of {size} skills",
        "category": CATEGORY,
        "layoutConfig": {"nodeSpacing": 120, "levelHeight": 160},
    }
    return {"format": "skilltree.tree", "version": 1, "tree": tree, "skills": skills}


def edited(document: dict[str, Any], seed: int = SEED) -> dict[str, Any]:
    """`document` with 10% of skills renamed, 1% removed (and edges to them), 1% added."""
    rng = random.Random(seed + 1)
    skills = [dict(s) for s in document["skills"]]
    gone = {s["key"] for s in rng.sample(skills[1:], len(skills) // 100)}
    kept = [s for s in skills if s["key"] not in gone]
    for skill in rng.sample(kept, len(skills) // 10):
        skill["name"] += " (revised)"
    for skill in kept:
        if gone.intersection(skill["dependencies"]):
            skill["dependencies"] = [k for k in skill["dependencies"] if k not in gone] or [
                kept[0]["key"]
            ]
    added = [
        kept[i] | {"key": f"new-{i}", "dependencies": [kept[i]["key"]]}
        for i in range(len(skills) // 100)
    ]
    return document | {"skills": kept + added}


def timed_import(url: str, data: bytes) -> dict[str, Any]:
    """Import `data` in one unit of work; seconds in all and per phase, and the summary."""
    engine = create_db_engine(url)
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    with unit_of_work(engine) as session:
        summary = service.import_tree(
            session,
            data,
            author=None,
            on_phase=lambda phase: marks.append((phase, time.perf_counter())),
        )
    end = time.perf_counter()
    engine.dispose()
    bounds = [t for _, t in marks] + [end]
    phases = {name: bounds[i + 1] - bounds[i] for i, (name, _) in enumerate(marks)}
    return {"seconds": end - start, "phases": phases, "summary": summary.model_dump()}


def floor_rows(url: str, slug: str) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    """The imported tree's skill and edge rows, under new ids (for a new tree `floor`)."""
    as_text = COLUMNS.replace("content", "content::text").replace("resources", "resources::text")
    as_text = as_text.replace("assessments", "assessments::text")
    tree = "(SELECT id FROM skill_trees WHERE slug = %s)"
    with psycopg.connect(libpq_dsn(url)) as conn:
        skills = conn.execute(
            f"SELECT id, {as_text} FROM skills WHERE skill_tree_id = {tree}", (slug,)
        ).fetchall()
        edges = conn.execute(
            f"SELECT skill_id, depends_on_id FROM skill_dependencies WHERE skill_tree_id = {tree}",
            (slug,),
        ).fetchall()
    fresh = {row[0]: new_id() for row in skills}
    rows = [(fresh[row[0]], "floor", *row[1:]) for row in skills]
    return rows, [(fresh[a], fresh[b]) for a, b in edges]


def timed_floor(url: str, rows: list[tuple[Any, ...]], edges: list[tuple[str, str]]) -> float:
    """Seconds to COPY `rows` and `edges` into a new tree `floor`, committed."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        start = time.perf_counter()
        conn.execute(
            "INSERT INTO skill_trees (id, category_id, name, slug) "
            "SELECT 'floor', id, 'Floor', 'floor' FROM skill_categories WHERE slug = %s",
            (CATEGORY,),
        )
        copy_skills = f"COPY skills (id, skill_tree_id, {COLUMNS}) FROM STDIN"
        with conn.cursor() as cursor, cursor.copy(copy_skills) as copy:
            for row in rows:
                copy.write_row(row)
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY skill_dependencies (skill_id, depends_on_id, skill_tree_id) FROM STDIN"
            ) as copy,
        ):
            for skill, prerequisite in edges:
                copy.write_row((skill, prerequisite, "floor"))
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DELETE FROM skill_trees WHERE slug = 'floor'")
        conn.commit()
    return seconds


def child(size: int, path: str, url: str) -> None:
    """One size, in its own process: print the measurements as one JSON line."""
    data = Path(path).read_bytes()
    first = timed_import(url, data)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    again = timed_import(url, data)
    changed = timed_import(url, json.dumps(edited(json.loads(data))).encode())
    rows, edges = floor_rows(url, f"bench-{size}")
    floor = timed_floor(url, rows, edges)
    result = {
        "size": size,
        "bytes": len(data),
        "edges": first["summary"]["dependencies"],
        "first": first,
        "again": again,
        "changed": changed,
        "floor": floor,
        "peak_rss_mib": rss_kib / 1024,
    }
    print(json.dumps(result))


def main(sizes: tuple[int, ...] = SIZES) -> None:
    """Run every size in its own process on a throwaway database; print the markdown table."""
    results = []
    with throwaway_database("import") as url, tempfile.TemporaryDirectory() as scratch:
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        with psycopg.connect(libpq_dsn(url)) as conn:
            conn.execute(
                "INSERT INTO skill_categories (id, name, slug) VALUES (%s, 'Benchmarks', %s)",
                (new_id(), CATEGORY),
            )
        where = machine(url)
        for size in sizes:
            path = Path(scratch) / f"tree-{size}.json"
            path.write_text(json.dumps(generate(size, f"bench-{size}")))
            command = [sys.executable, "-m", "benchmarks.bench_import", "--child", str(size)]
            done = subprocess.run(
                [*command, str(path), url], check=True, capture_output=True, text=True
            )
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(report(results, where))


def report(results: list[dict[str, Any]], where: str) -> str:
    """The markdown section for benchmarks/RESULTS.md."""
    lines = [
        "## Tree-file import: generated trees of 10,000 and 100,000 skills",
        "",
        f"`python -m benchmarks.bench_import`, {today()}, on {where}.",
        "",
        "Layered DAGs (100 layers of 100 skills; 250 layers of 400), each skill past the first",
        f"layer needing 1-3 skills of the three layers before it (seed {SEED}), every skill with",
        "description, objectives, content and a resource; no positions (the import lays them out).",
        "Import = `treefile.service.import_tree` from the file's bytes to the commit, in a process",
        "of its own per size (peak RSS = that process's `ru_maxrss` after the first import).",
        "",
        "| skills | edges | file MiB | path | seconds | validate | skills | edges + commit "
        "| / floor | peak RSS MiB | target |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        size, floor = r["size"], r["floor"]
        target = TARGET_SECONDS.get(size)
        met = target is not None and r["first"]["seconds"] <= target
        head = f"| {size:,} | {r['edges']:,} | {r['bytes'] / 2**20:.1f}"
        for label, run in (
            ("import, new tree", r["first"]),
            ("re-import, unchanged", r["again"]),
            ("re-import, 12% changed", r["changed"]),
        ):
            p = run["phases"]
            verdict = ""
            if label == "import, new tree" and target is not None:
                verdict = f"<= {target:.0f} s: {'met' if met else '**NOT met**'}"
            lines.append(
                f"{head} | {label} | {run['seconds']:.2f} | {p['validate']:.2f} "
                f"| {p['skills']:.2f} | {p['edges']:.2f} | {run['seconds'] / floor:.1f}x "
                f"| {r['peak_rss_mib']:.0f} | {verdict} |"
            )
        lines.append(f"{head} | floor: plain psycopg COPY | {floor:.2f} | | | | 1.0x | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
