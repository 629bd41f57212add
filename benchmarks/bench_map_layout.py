"""The map's layout (issue 15 part 1) against dagre and ELK, in Debian's Chromium.

Every demo tree and generated trees of 200, 1,000 and 5,000 skills are laid out by ours
(src/skilltree/web/static/js/graph/layered.js), by dagre and by ELK's layered algorithm (both
vendored under benchmarks/vendor/, never shipped with the app), each in a Web Worker of the same
page, on the same nodes and edges. The floor of each tree is the better of dagre and ELK: the
edge crossings of the lines each engine draws are counted alike, and ours must not have more.
Also timed: ours in the web app, laid out the first time (computed) and on a revisit (read back
from IndexedDB).

Run from the repository root: `python -m benchmarks.bench_map_layout` (no database, no npm).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import host, today, write_results
from skilltree.graph.dag import layered_positions
from skilltree.seed import spec
from skilltree.seed.curriculum import TREES
from skilltree.seed.demo import skill_rows

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "src" / "skilltree" / "web" / "static"
CHROMIUM = Path(os.environ.get("SKILLTREE_CHROMIUM", "/usr/bin/chromium"))
ORIGIN = "http://map.bench"
SIZES = (200, 1000, 5000)
SEED = 20251127
RUNS = 3
LIMIT_S = 300
"""An engine that takes longer on one tree is stopped and reported as not finishing."""
TARGET_MS = 1000.0
"""Issue 15: a 5,000-skill tree is laid out within a second."""

HEADER = (
    "| tree | skills | edges | crossings: ours | dagre | ELK | ours / floor "
    "| ours ms | dagre ms | ELK ms | app, first ms | app, revisit ms |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)
PAGE = b"<!doctype html><meta charset=utf-8><title>map layout benchmark</title>"


def generated_tree(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """`count` skills as a tree file's skills: layers of varying width, each skill past the first
    layer needing one skill of the layer above and up to two of the three above. Keys and names
    number layer and column (`s3-10`, "Skill 3.10"), so that their order as text is not theirs."""
    rng = random.Random(seed)
    width = max(4, round(count**0.5 * 1.4))
    layers: list[list[str]] = []
    skills: list[dict[str, Any]] = []
    while len(skills) < count:
        depth = len(layers)
        size = min(count - len(skills), max(2, round(width * (0.6 + 0.8 * rng.random()))))
        layer = []
        for column in range(size):
            needs: list[str] = []
            if depth:
                needs.append(rng.choice(layers[-1]))
                for _ in range(rng.randrange(3)):
                    needs.append(rng.choice(layers[-1 - rng.randrange(min(3, depth))]))
            key = f"s{depth}-{column}"
            skills.append(
                {
                    "key": key,
                    "name": f"Skill {depth}.{column}",
                    "dependencies": sorted(set(needs)),
                    "nodeSize": 2 if column % 10 == 9 else 1,
                }
            )
            layer.append(key)
        layers.append(layer)
    return skills


def _document(skills: list[dict[str, Any]], positions: dict[str, tuple[float, float]]) -> dict:
    """A tree document as the web app reads it (the fields the layout uses)."""
    return {
        "skills": [
            {
                "id": skill["key"],
                "name": skill["name"],
                "nodeSize": skill.get("nodeSize", 1),
                "positionX": positions[skill["key"]][0],
                "positionY": positions[skill["key"]][1],
                "dependencies": skill["dependencies"],
            }
            for skill in skills
        ],
        "layoutConfig": {},
    }


def generated_document(count: int) -> dict:
    """`generated_tree(count)` as the app shows it after an import (placed by layer on import)."""
    skills = generated_tree(count)
    needs = {skill["key"]: skill["dependencies"] for skill in skills}
    return _document(skills, layered_positions(needs, list(needs)))


def demo_documents() -> dict[str, dict]:
    """Every tree `skilltree db seed --demo` loads, by slug, as the web app reads it."""
    documents = {}
    for tree in TREES:
        rows = skill_rows(tree)
        name_of = {skill.short_name: skill.name for skill in tree.skills}
        skills = [
            {
                "key": row["name"],
                "name": row["name"],
                "nodeSize": row["node_size"],
                "dependencies": [name_of[need] for need in outline.prerequisites],
            }
            for row, outline in zip(rows, tree.skills, strict=True)
        ]
        positions = {row["name"]: (row["position_x"], row["position_y"]) for row in rows}
        documents[tree.slug] = _document(skills, positions)
    needs: dict[str, list[str]] = {}
    for skill, needed in spec.FRONTEND_EDGES:
        needs.setdefault(skill, []).append(needed)
    frontend = [
        {
            "key": row["name"],
            "name": row["name"],
            "nodeSize": row.get("node_size", 1),
            "dependencies": needs.get(row["name"], []),
        }
        for row in spec.FRONTEND_SKILLS
    ]
    positions = {
        row["name"]: (row.get("position_x", 0.0), row.get("position_y", 0.0))
        for row in spec.FRONTEND_SKILLS
    }
    documents[spec.FRONTEND_TREE["slug"]] = _document(frontend, positions)
    return documents


def _serve(route: Any) -> None:
    """The benchmark's origin: the app's static files, the vendored engines, the bench scripts."""
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    files = {"/static/": STATIC, "/vendor/": HERE / "vendor", "/bench/": HERE}
    for prefix, folder in files.items():
        if path.startswith(prefix):
            target = (folder / path.removeprefix(prefix)).resolve()
            if target.is_file() and target.is_relative_to(folder):
                kind = "text/javascript" if target.suffix == ".js" else "text/plain"
                route.fulfill(body=target.read_bytes(), content_type=kind)
                return
    if path == "/":
        route.fulfill(body=PAGE, content_type="text/html")
        return
    route.fulfill(status=404, body=b"")


def measure(documents: dict[str, dict], limit_s: int = LIMIT_S) -> tuple[str, list[dict[str, Any]]]:
    """Lay every document out with each engine (each stopped after `limit_s`); answers
    Chromium's version and one row a tree."""
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        context = browser.new_context()
        context.route(f"{ORIGIN}/**", _serve)
        page = context.new_page()
        page.set_default_timeout((limit_s + 120) * 1000)
        page.goto(f"{ORIGIN}/")
        page.evaluate("async () => { window.bench = await import('/bench/map_layout.js'); }")
        for slug, doc in documents.items():
            edges = sum(len(skill["dependencies"]) for skill in doc["skills"])
            row: dict[str, Any] = {"slug": slug, "skills": len(doc["skills"]), "edges": edges}
            for engine in ("ours", "dagre", "elk"):
                runs = RUNS if engine == "ours" else 1
                results = [
                    page.evaluate(
                        "([engine, doc, limit]) => window.bench.run(engine, doc, limit)",
                        [engine, doc, limit_s * 1000],
                    )
                    for _ in range(runs)
                ]
                done = [result for result in results if not result.get("timedOut")]
                row[engine] = (
                    {
                        "ms": statistics.median(result["ms"] for result in done),
                        "crossings": done[0]["crossings"],
                    }
                    if done
                    else None
                )
            row["first"], row["revisit"] = _app_layout(browser, slug, doc)
            print(json.dumps(row), flush=True)
            rows.append(row)
        version = browser.version
        browser.close()
    return version, rows


def _app_layout(browser: Any, slug: str, doc: dict) -> tuple[dict, dict]:
    """The web app's own path, in fresh pages: laid out the first time (in a worker past 300
    skills) and kept, then read back after a reload; the median of RUNS of each."""
    load = "async () => { window.bench = await import('/bench/map_layout.js'); }"
    call = "([slug, doc]) => window.bench.appLayout(slug, doc)"
    firsts, revisits = [], []
    for _ in range(RUNS):
        context = browser.new_context()
        context.route(f"{ORIGIN}/**", _serve)
        page = context.new_page()
        page.goto(f"{ORIGIN}/")
        page.evaluate(load)
        firsts.append(page.evaluate(call, [slug, doc]))
        page.reload()
        page.evaluate(load)
        revisits.append(page.evaluate(call, [slug, doc]))
        context.close()

    def median(results: list[dict]) -> dict:
        return {
            "ms": statistics.median(result["ms"] for result in results),
            "source": results[0]["source"],
        }

    return median(firsts), median(revisits)


def _cell(result: dict[str, Any] | None, key: str, fmt: str) -> str:
    return f"{result[key]:{fmt}}" if result else f"not done in {LIMIT_S} s"


def report(chromium: str, rows: list[dict[str, Any]]) -> str:
    """The RESULTS.md section."""
    lines = []
    met = True
    for row in rows:
        floors = [row[e]["crossings"] for e in ("dagre", "elk") if row[e]]
        floor = min(floors) if floors else None
        ours = row["ours"]["crossings"]
        if floor is None:
            ratio = "no floor"
        elif floor == 0:
            ratio = "0 = 0" if ours == 0 else f"{ours} > 0"
        else:
            ratio = f"{ours / floor:.2f}x"
        if floor is not None and ours > floor:
            met = False
        lines.append(
            f"| {row['slug']} | {row['skills']:,} | {row['edges']:,} | {ours:,} "
            f"| {_cell(row['dagre'], 'crossings', ',')} | {_cell(row['elk'], 'crossings', ',')} "
            f"| {ratio} | {row['ours']['ms']:.0f} | {_cell(row['dagre'], 'ms', '.0f')} "
            f"| {_cell(row['elk'], 'ms', '.0f')} | {row['first']['ms']:.0f} "
            f"| {row['revisit']['ms']:.1f} ({row['revisit']['source']}) |"
        )
    largest = max(rows, key=lambda row: row["skills"])
    fast = largest["first"]["ms"] <= TARGET_MS
    table = "\n".join(lines)
    return f"""
## The map's layout against dagre and ELK

`python -m benchmarks.bench_map_layout`, {today()}, on {host()}; Chromium {chromium} headless.

Each tree laid out by each engine in a Web Worker of one page, on the same nodes (the web app's
box sizes, in the order it prefers) and edges: ours (`graph/layered.js`: layers by longest path,
barycentre sweeps from several starts and greedy switch, Brandes-Köpf placement, long edges
through slots of their own), dagre {_version("dagre")} and ELK {_version("elkjs")} (layered,
downwards, otherwise their defaults; vendored in `benchmarks/vendor/`). *Crossings*: pairs of
drawn lines, with no end in common, that cross (ours: the SVG curves, sampled; dagre's polylines;
ELK's orthogonal routes), counted alike. The floor is the better of dagre and ELK. The demo trees
are those `skilltree db seed --demo` loads; the generated ones are `generated_tree` (layers of
varying width, each skill needing one of the layer above and up to two of the three above; seed
{SEED}). Engine times: median of {RUNS} for ours, one run for dagre and ELK (stopped after
{LIMIT_S} s). *App, first*: the web app's `layoutFor` the first time, in a fresh page (in a
worker past 300 skills, the worker started for it; the layout then kept in IndexedDB); *app,
revisit*: the same after a reload of that page (its key computed, the layout read back); medians
of {RUNS}.

{HEADER}
{table}

Targets (issue 15): crossings no more than the better of dagre and ELK on every tree:
{"met" if met else "missed"}; the {largest["skills"]:,}-skill tree laid out within
{TARGET_MS:.0f} ms the first time: {"met" if fast else "missed"}
({largest["first"]["ms"]:.0f} ms), and a revisit reads the kept layout
({largest["revisit"]["ms"]:.1f} ms).
"""


def _version(package: str) -> str:
    for line in (HERE / "vendor" / "VERSIONS").read_text().splitlines():
        name, version = line.rsplit(" ", 1)
        if name.endswith(package):
            return version
    return "?"


def main() -> None:
    """Lay out every tree with every engine, print the table and refresh RESULTS.md."""
    if not CHROMIUM.exists():
        print(f"bench_map_layout skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
        return
    documents = demo_documents() | {
        f"generated-{count}": generated_document(count) for count in SIZES
    }
    chromium, rows = measure(documents)
    section = report(chromium, rows)
    print(section)
    write_results("bench_map_layout", section)


if __name__ == "__main__":
    main()
