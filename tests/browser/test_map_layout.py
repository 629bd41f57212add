"""The map never draws a prerequisite that is not there (issue 15 part 1).

Every demo tree (`skilltree db seed --demo`'s) and generated trees of 200 and 1,000 skills are
opened in Chromium, and the SVG drawn is checked by its geometry: each arrow's path (its `d`, read
piece by piece: lines and cubic curves) is sampled about every 2 px of its length, and no sample
lies inside the box of a skill the arrow does not connect; no two boxes
overlap; each skill sits in the row of its longest chain of prerequisites; every prerequisite is
drawn. Then: rows follow the graph, not keys as text, and a revisit reads the kept layout.
"""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.bench_map_layout import generated_tree
from sqlalchemy import Engine, select
from tests.browser.data import committed, import_tree, tree_file, unique
from tests.factories import make_category, make_user

from skilltree.models import SkillTree, UserRole
from skilltree.seed import spec
from skilltree.seed.curriculum import CATEGORIES, TREES
from skilltree.seed.demo import skill_rows, tree_row

DEMO_SLUGS = [tree.slug for tree in TREES] + [spec.FRONTEND_TREE["slug"]]
GENERATED = (200, 1000)

GEOMETRY = """() => {
    const svg = document.querySelector("#graph .graph-canvas");
    const boxes = new Map();
    for (const node of svg.querySelectorAll(".nodes .node")) {
        const body = node.querySelector(".body");
        const at = node.transform.baseVal.consolidate().matrix;
        const x = at.e + body.x.baseVal.value;
        const y = at.f + body.y.baseVal.value;
        boxes.set(node.dataset.id, {
            x0: x, y0: y, x1: x + body.width.baseVal.value, y1: y + body.height.baseVal.value,
            cx: at.e, cy: at.f,
        });
    }
    // Boxes by the 100 px cells they cover, so that each sample meets only its neighbours.
    const CELL = 100;
    const grid = new Map();
    for (const [id, b] of boxes) {
        for (let i = Math.floor(b.x0 / CELL); i <= Math.floor(b.x1 / CELL); i++) {
            for (let j = Math.floor(b.y0 / CELL); j <= Math.floor(b.y1 / CELL); j++) {
                const key = i + "," + j;
                if (!grid.has(key)) grid.set(key, []);
                grid.get(key).push(id);
            }
        }
    }
    const near = (x, y) => grid.get(Math.floor(x / CELL) + "," + Math.floor(y / CELL)) || [];
    // Each path's own geometry, from its `d` (the renderer writes M, L and C with absolute
    // coordinates): straight pieces and cubic curves, sampled about every 2 px of their length.
    const through = [];
    const edges = [];
    let samples = 0;
    for (const path of svg.querySelectorAll(".edges .edge")) {
        const { from, to } = path.dataset;
        edges.push([from, to]);
        const tokens = path.getAttribute("d").match(/[MLC]|-?[0-9.]+(?:e-?[0-9]+)?/g);
        const met = new Set();
        const check = (x, y) => {
            samples++;
            for (const id of near(x, y)) {
                if (id === from || id === to || met.has(id)) continue;
                const b = boxes.get(id);
                if (x > b.x0 && x < b.x1 && y > b.y0 && y < b.y1) {
                    met.add(id);
                    through.push([from, to, id]);
                }
            }
        };
        let x = 0, y = 0, i = 0, command = "M";
        const number = () => Number(tokens[i++]);
        while (i < tokens.length) {
            if (/[MLC]/.test(tokens[i])) command = tokens[i++];
            if (command === "M") {
                [x, y] = [number(), number()];
                check(x, y);
            } else if (command === "L") {
                const [x1, y1] = [number(), number()];
                const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x, y1 - y) / 2));
                for (let k = 1; k <= steps; k++) {
                    check(x + ((x1 - x) * k) / steps, y + ((y1 - y) * k) / steps);
                }
                [x, y] = [x1, y1];
            } else {
                const [ax, ay, bx, by] = [number(), number(), number(), number()];
                const [x1, y1] = [number(), number()];
                const length = Math.hypot(ax - x, ay - y) + Math.hypot(bx - ax, by - ay)
                    + Math.hypot(x1 - bx, y1 - by);
                const steps = Math.max(1, Math.ceil(length / 2));
                for (let k = 1; k <= steps; k++) {
                    const t = k / steps, u = 1 - t;
                    const [p, q, r, w] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
                    check(p * x + q * ax + r * bx + w * x1, p * y + q * ay + r * by + w * y1);
                }
                [x, y] = [x1, y1];
            }
        }
    }
    const overlaps = [];
    for (const [id, b] of boxes) {
        for (const other of near(b.cx, b.cy)) {
            const o = boxes.get(other);
            if (other < id && b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1) {
                overlaps.push([id, other]);
            }
        }
    }
    const centres = Object.fromEntries([...boxes].map(([id, b]) => [id, [b.cx, b.cy]]));
    return { through, overlaps, edges, centres, samples };
}"""


def _load_demo_trees(engine: Engine) -> None:
    """The demo's trees, as `skilltree db seed --demo` loads them (without its learners and
    achievements, which would change what other browser tests of this session see); once a
    session: another module may have loaded them."""
    with committed(engine) as session:
        if session.scalar(select(SkillTree.id).where(SkillTree.slug == DEMO_SLUGS[0])):
            return
        category_ids = spec.load_categories(session, spec.CATEGORIES)
        frontend = spec.load_trees(session, [spec.FRONTEND_TREE], category_ids)
        spec.load_skills(
            session, frontend[spec.FRONTEND_TREE["slug"]], spec.FRONTEND_SKILLS, spec.FRONTEND_EDGES
        )
        category_ids |= spec.load_categories(session, CATEGORIES)
        tree_ids = spec.load_trees(session, [tree_row(tree) for tree in TREES], category_ids)
        for tree in TREES:
            name_of = {skill.short_name: skill.name for skill in tree.skills}
            edges = [
                (skill.name, name_of[needed])
                for skill in tree.skills
                for needed in skill.prerequisites
            ]
            spec.load_skills(session, tree_ids[tree.slug], skill_rows(tree), edges)


@pytest.fixture(scope="module")
def map_trees(live_engine: Engine) -> dict[str, str]:
    """Slugs of the trees to draw: each demo tree by its own slug, generated ones by size."""
    _load_demo_trees(live_engine)
    with committed(live_engine) as session:
        author = make_user(session, UserRole.AUTHOR, username=unique("mapper").replace("-", "_"))
        category = make_category(session, slug=unique("maps"), name=unique("Maps")).slug
    slugs = {slug: slug for slug in DEMO_SLUGS}
    for count in GENERATED:
        document = tree_file(category, unique(f"generated-{count}"), f"Generated {count}", [])
        document["skills"] = generated_tree(count)
        import_tree(live_engine, document, author)
        slugs[f"generated-{count}"] = document["tree"]["slug"]
    return slugs


def _depths(skills: list[dict[str, Any]]) -> dict[str, int]:
    """Each skill's row: the length of its longest chain of prerequisites."""
    needs = {skill["id"]: skill["dependencies"] for skill in skills}
    depth: dict[str, int] = {}

    def of(skill: str) -> int:
        stack = [skill]
        while stack:
            top = stack[-1]
            pending = [need for need in needs[top] if need not in depth]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depth[top] = 1 + max((depth[need] for need in needs[top]), default=-1)
        return depth[skill]

    for skill in needs:
        of(skill)
    return depth


def _open(new_page: Any, slug: str) -> Any:
    from playwright.sync_api import expect

    page = new_page(width=1440, height=900)
    page.goto(f"/#/trees/{slug}")
    expect(page.locator("#graph[data-rendered]")).to_have_count(1, timeout=60_000)
    return page


@pytest.mark.parametrize("tree", [*DEMO_SLUGS, *(f"generated-{count}" for count in GENERATED)])
def test_no_arrow_passes_through_a_skill_it_does_not_connect(
    new_page: Any, map_trees: dict[str, str], tree: str
) -> None:
    slug = map_trees[tree]
    page = _open(new_page, slug)
    drawn = page.evaluate(GEOMETRY)
    skills = page.evaluate(
        "async (slug) => (await (await fetch(`/api/v1/trees/${slug}`)).json()).skills", slug
    )

    assert drawn["through"] == []
    assert drawn["overlaps"] == []
    expected = {(need, skill["id"]) for skill in skills for need in skill["dependencies"]}
    assert sorted(map(tuple, drawn["edges"])) == sorted(expected)
    # Rows by longest path: the skills of one row share a height, and rows go down in order.
    centres = drawn["centres"]
    depth = _depths(skills)
    rows: dict[int, set[float]] = {}
    for skill, d in depth.items():
        rows.setdefault(d, set()).add(round(centres[skill][1], 3))
    assert all(len(heights) == 1 for heights in rows.values()), rows
    heights = [rows[d].pop() for d in sorted(rows)]
    assert heights == sorted(heights)
    assert len(set(heights)) == len(heights)


def test_rows_follow_the_graph_not_keys_as_text(
    new_page: Any, live_engine: Engine, author: Any, category_slug: str
) -> None:
    # A ladder: child i needs roots i and i + 1. Placed on import by keys as text (r1, r10, r11,
    # r12, r2, ...), it crosses itself; laid out by its graph it needs no crossing at all.
    roots = [{"key": f"r{i}", "name": f"Root {i}"} for i in range(1, 13)]
    children = [
        {"key": f"c{i}", "name": f"Child {i}", "dependencies": [f"r{i}", f"r{i + 1}"]}
        for i in range(1, 12)
    ]
    document = tree_file(category_slug, unique("ladder"), "Ladder", roots + children)
    ids = import_tree(live_engine, document, author[0])
    page = _open(new_page, document["tree"]["slug"])

    assert page.evaluate("window.skilltreeMetrics.crossings") == 0
    centres = page.evaluate(GEOMETRY)["centres"]
    across = sorted(range(1, 13), key=lambda i: centres[ids[f"r{i}"]][0])
    assert across in (list(range(1, 13)), list(range(12, 0, -1)))


def test_a_large_tree_is_laid_out_once_and_a_revisit_reads_it_back(
    new_page: Any, map_trees: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    slug = map_trees["generated-1000"]
    page = _open(new_page, slug)
    graph = page.locator("#graph")
    # Past 300 skills the layout is computed in a worker, then kept in IndexedDB.
    expect(graph).to_have_attribute("data-layout", "computed")
    first = page.evaluate(GEOMETRY)["centres"]

    page.goto("about:blank")
    page.goto(f"/#/trees/{slug}")
    expect(page.locator("#graph[data-rendered]")).to_have_count(1, timeout=60_000)
    expect(graph).to_have_attribute("data-layout", "stored")
    assert page.evaluate(GEOMETRY)["centres"] == first

    # Within the page, the layout is at hand: back from the catalog it is not even read again.
    page.get_by_role("link", name="Catalog").first.click()
    # The catalog must be on the page before going back: two address changes handled together
    # both read the tree's address, and the tree's view, never left, stays as it was.
    expect(page.locator("#graph")).to_have_count(0)
    page.go_back()
    expect(page.locator("#graph[data-rendered]")).to_have_count(1, timeout=60_000)
    expect(graph).to_have_attribute("data-layout", "memory")


def test_a_horizontal_tree_lays_its_rows_out_as_columns(new_page: Any, live_server: str) -> None:
    page = new_page()
    page.goto("/")
    layout = page.evaluate(
        """async () => {
            const { computeLayout } = await import("/static/js/graph/layout.js");
            const skill = (id, dependencies = []) =>
                ({ id, name: id, positionX: 0, positionY: 0, nodeSize: 1, dependencies });
            const doc = {
                skills: [skill("a"), skill("b", ["a"]), skill("c", ["a"])],
                layoutConfig: { direction: "horizontal" },
            };
            const { boxes, routes, horizontal } = computeLayout(doc);
            return {
                horizontal,
                boxes: Object.fromEntries(boxes),
                route: Array.from(routes.get("a>b")),
            };
        }"""
    )
    a, b, c = (layout["boxes"][id_] for id_ in "abc")
    assert layout["horizontal"] is True
    assert a["x"] < b["x"] == c["x"]
    assert abs(b["y"] - c["y"]) >= b["h"]
    # The arrow leaves the prerequisite's right side and ends just before the skill's left side.
    route = layout["route"]
    assert route[0] == a["x"] + a["w"] / 2
    assert route[-2] == b["x"] - b["w"] / 2 - 2
    assert a["y"] - a["h"] / 2 < route[1] < a["y"] + a["h"] / 2
