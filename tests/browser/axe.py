"""axe-core in the browser tests: every WCAG 2.x A and AA rule and the best practices, none left
out (label-content-name-mismatch, WCAG 2.5.3 "label in name", among them: issue 15 part 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
"""axe-core, vendored unmodified from the npm registry (tests/browser/vendor/README.md)."""

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
"""The axe rules run: WCAG 2.x A and AA (colour contrast among them) and best practices."""

ALWAYS = ["color-contrast", "label-content-name-mismatch"]
"""Rules run even if a later axe-core moves them out of TAGS."""


def axe_results(page: Any) -> dict[str, Any]:
    """axe-core's answer for the page as it is now (violations in full, other results named)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    results: dict[str, Any] = page.evaluate(
        """async ([tags, always]) => await axe.run(document, {
            runOnly: { type: "tag", values: tags },
            rules: Object.fromEntries(always.map((id) => [id, { enabled: true }])),
            resultTypes: ["violations"],
        })""",
        [TAGS, ALWAYS],
    )
    return results


def violations(page: Any, *, ran: tuple[str, ...] = ("color-contrast",)) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, in short; the rules `ran` must have found
    something to check (an empty page passes every rule)."""
    results = axe_results(page)
    passed = {rule["id"] for rule in results["passes"]}
    failed = {rule["id"] for rule in results["violations"]}
    for rule in ran:
        assert rule in passed | failed, f"axe rule {rule} checked nothing"
    return [
        {"rule": v["id"], "nodes": [(n["target"], n["failureSummary"]) for n in v["nodes"]]}
        for v in results["violations"]
    ]
