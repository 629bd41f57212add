"""A tree's insight page (issue 15 part 9) on the analytics data set, in Debian's Chromium.

The author of the data set's tree (10,000 learners x 1,000 skills, benchmarks/analytics_dataset.py)
opens `#/trees/analytics-bench/insight` against a uvicorn server on that database. The page
records in `data-ready-ms` the time from the moment its data arrived (the last of its six API
answers) to the moment everything is drawn and a frame has been painted: the map coloured by the
funnel, the three uPlot charts, the stall table. Measured in a fresh browser context (the map's
layout computed, in a worker) and on a reload of that context (the layout read back from
IndexedDB), RUNS times each.

Floor, same run and same browser: the learner's tree page of the same tree (`#/trees/analytics-
bench`), from its document's arrival to its map painted (`window.skilltreeMetrics.renderMs`,
views/tree.js), with the layout computed and kept alike: the cost of the map alone. Target
(issue 15): the insight page interactive within 1,000 ms of its data arriving.

Run from the repository root: `python -m benchmarks.bench_insight` (builds the data set on its
first run: minutes).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import psycopg

from benchmarks.analytics_dataset import (
    AUTHOR_ID,
    LEARNERS,
    SKILLS,
    SLUG,
    TREE_ID,
    ensure_dataset,
)
from benchmarks.common import (
    libpq_dsn,
    machine,
    start_server,
    terminating,
    today,
    write_results,
)
from skilltree.accounts.service import token_digest

CHROMIUM = Path(os.environ.get("SKILLTREE_CHROMIUM", "/usr/bin/chromium"))
RUNS = 3
TARGET_MS = 1000.0
FIRST = (datetime.now(UTC).date() - timedelta(days=89)).isoformat()
API_PATHS = (
    "funnel",
    "stalls?limit=1000",
    "time-to-complete",
    f"completions?from={FIRST}",
    "cohorts?weeks=12",
)
"""What the page asks for (views/insight.js), the tree's document aside."""


def _prepare(url: str) -> str:
    """Fold every event and compute the time-to-complete snapshot (as cron keeps them, and as
    bench_analytics does first), and answer a bearer token for the tree's author."""
    token = secrets.token_urlsafe(16)
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT analytics_fold()")
        conn.execute("SELECT analytics_refresh_skill_times(%s)", (TREE_ID,))
        conn.execute(
            "INSERT INTO user_sessions (id, user_id, token_hash, expires_at)"
            " VALUES (%s, %s, %s, now() + interval '1 hour')",
            (secrets.token_hex(12), AUTHOR_ID, token_digest(token)),
        )
    return token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _api_ms(base: str, token: str) -> dict[str, float]:
    """Each insight request's time on the server (median of 3, after the first read, which
    computes the time-to-complete snapshot once), milliseconds."""
    headers = {"Authorization": f"Bearer {token}"}
    times: dict[str, float] = {}
    with httpx2.Client(base_url=base, headers=headers, timeout=120) as client:
        for path in API_PATHS:
            client.get(f"/api/v1/analytics/trees/{SLUG}/{path}").raise_for_status()
            samples = []
            for _ in range(3):
                began = time.perf_counter()
                client.get(f"/api/v1/analytics/trees/{SLUG}/{path}").raise_for_status()
                samples.append((time.perf_counter() - began) * 1000)
            times[path.split("?")[0]] = statistics.median(samples)
    return times


KEPT = """() => new Promise((resolve) => {
  const request = indexedDB.open("skilltree", 1);
  request.onerror = () => resolve(0);
  request.onsuccess = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains("layouts")) return resolve(0);
    const counted = db.transaction("layouts").objectStore("layouts").count();
    counted.onsuccess = () => { resolve(counted.result); db.close(); };
  };
})"""
"""How many layouts the page's browser keeps (graph/layout-store.js)."""


def _kept(page: Any) -> None:
    """Wait until the layout just computed is kept (it is written after the map is drawn)."""
    deadline = time.monotonic() + 60
    while not page.evaluate(KEPT):
        if time.monotonic() > deadline:
            raise RuntimeError("the layout was not kept in IndexedDB")
        page.wait_for_timeout(50)


def _open(page: Any, address: str, ready: str) -> None:
    page.goto(address)
    page.wait_for_selector(ready, state="attached", timeout=120_000)


SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def _screenshots(page: Any) -> None:
    """The page as the author first sees it, and its charts (docs/web.md shows them)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "insight-map-1000-skills.png"))
    page.locator('section[aria-labelledby="completions-title"]').scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "insight-charts-1000-skills.png"), full_page=True)


def _count(response: Any, into: list[int]) -> None:
    if "/api/v1/" in response.url:
        into.append(len(response.body()))


def measure(base: str, token: str) -> dict[str, Any]:
    """The insight page's and the tree page's times, and the bytes of the page's data."""
    from playwright.sync_api import sync_playwright

    init = f"localStorage.setItem('skilltree.token', {json.dumps(token)})"
    found: dict[str, Any] = {
        "insight": {"computed": [], "stored": []},
        "tree": {"computed": [], "stored": []},
    }
    found |= {"parts": {}, "bytes": 0}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            for run in range(RUNS):
                for view in ("insight", "tree"):
                    context = browser.new_context(
                        base_url=base, viewport={"width": 1440, "height": 900}
                    )
                    context.add_init_script(init)
                    page = context.new_page()
                    sizes: list[int] = []
                    if view == "insight" and run == 0:
                        page.on("response", lambda r, into=sizes: _count(r, into))
                    for source in ("computed", "stored"):
                        if view == "insight":
                            _open(
                                page, f"/#/trees/{SLUG}/insight", '.insight-page[data-ready="true"]'
                            )
                            parts = page.evaluate(
                                "({...document.querySelector('.insight-page').dataset})"
                            )
                            ms = float(parts["readyMs"])
                            found["parts"].setdefault(source, []).append(
                                (float(parts["chartsMs"]), float(parts["mapMs"]))
                            )
                            layout = page.get_attribute("#insight-graph", "data-layout")
                        else:
                            _open(page, f"/#/trees/{SLUG}", '#graph[data-rendered="true"]')
                            metrics = page.evaluate("window.skilltreeMetrics")
                            ms, layout = float(metrics["renderMs"]), metrics["layoutSource"]
                        assert layout == source, (view, layout, source)
                        found[view][source].append(ms)
                        if view == "insight" and run == 0 and source == "stored":
                            _screenshots(page)
                        if source == "computed":
                            _kept(page)
                        page.goto("about:blank")
                    if sizes:
                        found["bytes"] = sum(sizes)
                    context.close()
        finally:
            browser.close()
    return found


HEADER = (
    "| visit | insight median ms | worst ms | charts drawn ms | map drawn ms "
    "| floor (tree page) ms | median / floor | ≤ 1,000 ms (worst) |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)


def report(found: dict[str, Any], api: dict[str, float], where: str) -> str:
    """The RESULTS.md section."""
    rows = []
    for source, words in (
        ("computed", "first visit (layout computed)"),
        ("stored", "revisit (layout kept)"),
    ):
        insight = found["insight"][source]
        floor = statistics.median(found["tree"][source])
        median = statistics.median(insight)
        charts = statistics.median(c for c, _ in found["parts"][source])
        drawn = statistics.median(m for _, m in found["parts"][source])
        rows.append(
            f"| {words} | {median:.0f} | {max(insight):.0f} | {charts:.0f} | {drawn:.0f} "
            f"| {floor:.0f} | {median / floor:.1f}x "
            f"| {'met' if max(insight) <= TARGET_MS else 'not met'} |"
        )
    api_cells = ", ".join(f"{name} {ms:.0f} ms" for name, ms in api.items())
    title = f"{LEARNERS:,} learners x {SKILLS:,} skills in the browser"
    return f"""## Tree insight (issue 15 part 9): {title}

`python -m benchmarks.bench_insight`, {today()}, on {where}; Chromium headless (software
rendering), 1440x900. The author opens the data set's tree's insight page: the map coloured by
the funnel, the stall table, three uPlot charts (90 days of completions, 12 weekly cohorts,
time to complete of 1,000 skills). Time from the page's data arriving to all of it drawn and a
frame painted (`data-ready-ms`), {RUNS} runs each. Floor: the learner's tree page of the same tree
in the same browser, from its document to its map painted (`skilltreeMetrics.renderMs`), its
layout computed or kept alike.

{HEADER}
{chr(10).join(rows)}

The page's data: {found["bytes"] / 1024:.0f} KiB of JSON (six answers, before compression). The
requests themselves on the server (median of 3, after a first read): {api_cells}; they run in
parallel after the funnel, before the clock above starts.
"""


def main() -> None:
    if not CHROMIUM.exists():
        print(f"bench_insight skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
        return
    url = ensure_dataset()
    where = machine(url)
    token = _prepare(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with terminating(start_server(url, port)):
            api = _api_ms(base, token)
            found = measure(base, token)
    finally:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute("DELETE FROM user_sessions WHERE user_id = %s", (AUTHOR_ID,))
    print(json.dumps({"api": api, **found}, indent=1))
    section = report(found, api, where)
    print(section)
    write_results("bench_insight", section)


if __name__ == "__main__":
    main()
