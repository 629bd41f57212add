"""Services that whole suites need besides PostgreSQL (Redis; Chromium and Playwright).

On a newcomer's machine a missing service skips the tests that need it, with the reason, and the
run ends with one line naming the suites skipped and why. Under SKILLTREE_REQUIRE_SERVICES=1
(what .ci/run sets) a missing service fails those tests instead, and any other skip fails the
run: CI cannot pass by skipping. tests/conftest.py installs the hooks below.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Generator
from typing import NoReturn

import pytest

REQUIRED = os.environ.get("SKILLTREE_REQUIRE_SERVICES", "") not in ("", "0")
"""Whether a missing service (or any skip) fails the run."""

_MESSAGE = re.compile(r"^without (?P<service>[^:]+): (?P<reason>.*)$", re.DOTALL)


def service_missing(service: str, reason: str) -> NoReturn:
    """Skip the test, or fail it under SKILLTREE_REQUIRE_SERVICES=1: `service` is not there."""
    if REQUIRED:
        pytest.fail(
            f"{service} is required (SKILLTREE_REQUIRE_SERVICES=1): {reason}", pytrace=False
        )
    pytest.skip(f"without {service}: {reason}")


_skipped: list[pytest.TestReport] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if REQUIRED and _skipped and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(wrapper=True, tryfirst=True)  # the outermost: after pytest's own summary
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None]:
    yield
    if _skipped:
        prefix = "FAILED: SKILLTREE_REQUIRE_SERVICES=1 allows no skip" if REQUIRED else "skipped"
        line = f"{prefix}: {skipped_suites(_skipped)}"
        terminalreporter.write_line(line, yellow=not REQUIRED, red=REQUIRED, bold=True)


def skipped_suites(reports: list[pytest.TestReport]) -> str:
    """One line: for each missing service (or other reason) the suites and count of tests."""
    tests: Counter[str] = Counter()
    suites: defaultdict[str, set[str]] = defaultdict(set)
    for report in reports:
        message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        message = message.removeprefix("Skipped: ")
        found = _MESSAGE.match(message)
        why = f"without {found['service']} ({found['reason']})" if found else f"({message})"
        tests[why] += 1
        suites[why].add("/".join(report.nodeid.split("::")[0].split("/")[:2]))
    return "; ".join(
        f"{count} test{'s' * (count > 1)} in {', '.join(sorted(suites[why]))} {why}"
        for why, count in tests.items()
    )
