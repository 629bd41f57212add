"""A suite skipped for want of a service is named in the run's closing line; under
SKILLTREE_REQUIRE_SERVICES=1 (CI) it fails the run, and so does any other skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = """
import pytest
from tests.services import service_missing

def test_needing_redis():
    service_missing("Redis", "nothing listens")

def test_skipped_for_another_reason():
    pytest.skip("not on this platform")

def test_running():
    pass
"""


def run_suite(tmp_path: Path, *, required: str) -> tuple[int, list[str]]:
    """Run SUITE under the project's skip hooks; its exit code and output lines."""
    (tmp_path / "test_suite.py").write_text(SUITE)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.services", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", os.devnull, "-rfE", str(tmp_path)],
        cwd=ROOT, env=os.environ | {"SKILLTREE_REQUIRE_SERVICES": required},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return finished.returncode, finished.stdout.splitlines()


def test_a_newcomers_run_passes_and_names_what_it_skipped(tmp_path: Path) -> None:
    code, lines = run_suite(tmp_path, required="")
    assert code == 0
    assert lines[-2] == (
        "skipped: 1 test in test_suite.py without Redis (nothing listens);"
        " 1 test in test_suite.py (not on this platform)"
    )
    assert "1 passed, 2 skipped" in lines[-1]


def test_under_the_switch_a_missing_service_or_any_skip_fails_the_run(tmp_path: Path) -> None:
    code, lines = run_suite(tmp_path, required="1")
    assert code == 1
    assert any("Redis is required (SKILLTREE_REQUIRE_SERVICES=1): nothing listens" in line
               for line in lines)  # fmt: skip
    assert lines[-2] == (
        "FAILED: SKILLTREE_REQUIRE_SERVICES=1 allows no skip:"
        " 1 test in test_suite.py (not on this platform)"
    )
    assert "1 failed, 1 passed, 1 skipped" in lines[-1]
