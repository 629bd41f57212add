"""Tree-file import of generated 10,000- and 100,000-skill trees, against a plain COPY floor.

Run from the repository root: `python -m benchmarks.bench_import [SIZE ...]`. Creates and drops its
own database on DATABASE_URL's server (or the embedded one) and prints a markdown table (to be
merged into benchmarks/RESULTS.md). Every run is a process of its own, so its peak RSS (getrusage)
is its own, and imports and floors take turns, so a busy moment of the machine hits both alike:

1. import, new tree: `treefile.service.import_tree` (what `skilltree tree import` calls) from the
   file's bytes to the commit: parse, validate every field and reference, COPY, cycle check;
2. the floor: the same skill and edge rows loaded by a plain psycopg COPY into a new tree in one
   transaction (rows built from the file before the clock starts);
3. re-import of the same file into the last tree (every skill compared, none written);
4. re-import of an edited file (10% of skills renamed, 1% removed, 1% added, edges with them).
"""

from __future__ import annotations

import json
import random
import resource
import statistics
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
from skilltree.db.base import new_id, new_ids
from skilltree.db.session import create_db_engine, unit_of_work
from skilltree.listeners import register_listeners
from skilltree.treefile import service

SIZES = (10_000, 100_000)
WIDTH = {10_000: 100, 100_000: 400}
"""Skills per layer: 100 layers of 100, 250 layers of 400."""
TARGET_SECONDS = {10_000: 5.0, 100_000: 60.0}
ROUNDS = {10_000: 5, 100_000: 3}
"""Imports (and floors) per size; the table shows the median."""
SEED = 20250914
CATEGORY = "benchmarks"
TYPES = ("KNOWLEDGE", "PRACTICAL", "PROJECT", "ASSESSMENT", "MILESTONE")
LEVELS = ("BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT")
COLUMNS = (
    "key, name, short_name, description, learning_objectives, skill_type, difficulty, "
    "estimated_minutes, xp_value, position_x, position_y, node_size, content, resources, "
    "assessments, completion_policy, is_active, is_optional, is_milestone"
)
"""The skill columns an import writes (the generated trees have no parent skills)."""


def generate(size: int, slug: str, seed: int = SEED, width: int | None = None) -> dict[str, Any]:
    """A tree file: a layered DAG of `width` skills a layer (by default WIDTH's, or 100), each
    skill past the first layer needing 1-3 skills of the three layers before it, every skill
    placed (as an editor would have saved it)."""
    rng = random.Random(seed)
    width = width or WIDTH.get(size, 100)
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
                    "position": {"x": column * 120, "y": layer * 160},
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


def floor_rows(document: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    """The skill rows (values of COLUMNS after id and tree id) and edges an import of `document`
    writes, under new ids."""
    skills = document["skills"]
    ids = dict(zip((s["key"] for s in skills), new_ids(len(skills)), strict=True))
    rows = [
        (
            ids[s["key"]],
            "floor",
            s["key"],
            s["name"],
            s["shortName"],
            s["description"],
            s["learningObjectives"],
            s["skillType"],
            s["difficulty"],
            s["estimatedMinutes"],
            s["xpValue"],
            s["position"]["x"],
            s["position"]["y"],
            s["nodeSize"],
            json.dumps(s["content"]),
            json.dumps(s["resources"]),
            None,
            '{"MANUAL": {}}',  # the default an import writes for a skill without assessments
            True,
            False,
            s["isMilestone"],
        )
        for s in skills
    ]
    return rows, [(ids[s["key"]], ids[key]) for s in skills for key in s["dependencies"]]


def timed_floor(url: str, document: dict[str, Any]) -> dict[str, Any]:
    """Seconds to COPY the rows of `document` into a new tree `floor`, committed (then dropped)."""
    rows, edges = floor_rows(document)
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
        copy_edges = "COPY skill_dependencies (skill_id, depends_on_id, skill_tree_id) FROM STDIN"
        with conn.cursor() as cursor, cursor.copy(copy_edges) as copy:
            for skill, prerequisite in edges:
                copy.write_row((skill, prerequisite, "floor"))
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DELETE FROM skill_trees WHERE slug = 'floor'")
        conn.commit()
    return {"seconds": seconds}


def child(mode: str, path: str, url: str) -> None:
    """One run in its own process (`import` or `floor`): print its measurements as JSON."""
    data = Path(path).read_bytes()
    result = timed_import(url, data) if mode == "import" else timed_floor(url, json.loads(data))
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run(mode: str, path: Path, url: str) -> dict[str, Any]:
    """`child(mode, path, url)` in a new process."""
    command = [sys.executable, "-m", "benchmarks.bench_import", "--child", mode, str(path), url]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} {path.name} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(size: int, url: str, scratch: Path) -> dict[str, Any]:
    """Imports and floors of a `size`-skill tree, taking turns; then the two re-imports."""
    floors, imports = [], []
    for round_ in range(ROUNDS.get(size, 1)):
        document = generate(size, f"bench-{size}-{round_}")
        path = scratch / f"tree-{size}-{round_}.json"
        path.write_text(json.dumps(document))
        floors.append(run("floor", path, url))
        imports.append(run("import", path, url))
    edited_path = scratch / f"tree-{size}-edited.json"
    edited_path.write_text(json.dumps(edited(document)))
    return {
        "size": size,
        "bytes": path.stat().st_size,
        "edges": imports[0]["summary"]["dependencies"],
        "first": sorted(imports, key=lambda r: r["seconds"])[len(imports) // 2],
        "floor": statistics.median(r["seconds"] for r in floors),
        "floor_rss_mib": max(r["peak_rss_mib"] for r in floors),
        "again": run("import", path, url),
        "changed": run("import", edited_path, url),
        "runs": len(imports),
    }


def main(sizes: tuple[int, ...] = SIZES) -> None:
    """Measure every size on a throwaway database; print the markdown table."""
    register_listeners()
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
        results = [measure(size, url, Path(scratch)) for size in sizes]
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
        "description, objectives, content, a resource and a position.",
        f"Each size: {' / '.join(f'{n:,} skills {k} runs' for n, k in ROUNDS.items())} of the",
        "import of a new tree and of the floor, taking turns, each in a process of its own (the",
        "median shown; peak RSS = that process's `ru_maxrss`, the file's bytes included); then one",
        "re-import of the same file and one of an edited file (10% of skills renamed, 1% removed,",
        "1% added) into the last tree. Phases: validate = parse, check everything, lock and",
        "write the tree row; skills = match keys, COPY / DELETE / INSERT / UPDATE; edges = the",
        "edge diff, one COPY (one cycle check), the tree's prerequisites, and the commit.",
        "",
        "| skills | edges | file MiB | path | seconds | validate | skills | edges + commit "
        "| / floor | peak RSS MiB | target |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        size, floor = r["size"], r["floor"]
        target = TARGET_SECONDS.get(size)
        head = f"| {size:,} | {r['edges']:,} | {r['bytes'] / 2**20:.1f}"
        for label, run in (
            ("import, new tree", r["first"]),
            ("re-import, unchanged", r["again"]),
            ("re-import, edited", r["changed"]),
        ):
            p = run["phases"]
            verdict = ""
            if label == "import, new tree" and target is not None:
                met = run["seconds"] <= target
                verdict = f"<= {target:.0f} s: {'met' if met else '**NOT met**'}"
            lines.append(
                f"{head} | {label} | {run['seconds']:.2f} | {p['validate']:.2f} "
                f"| {p['skills']:.2f} | {p['edges']:.2f} | {run['seconds'] / floor:.2f}x "
                f"| {run['peak_rss_mib']:.0f} | {verdict} |"
            )
        lines.append(
            f"{head} | floor: plain psycopg COPY | {floor:.2f} | | | | 1.00x "
            f"| {r['floor_rss_mib']:.0f} | |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
