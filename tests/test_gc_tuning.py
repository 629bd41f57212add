"""The collector is tuned once per process, never paused: checked in a process of its own (the
tuning is process-wide and would change the test run's own collector)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc
from skilltree.gc_tuning import GEN0_THRESHOLD, tune_collector
tune_collector()
assert gc.isenabled()
assert gc.get_threshold()[0] == GEN0_THRESHOLD
assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
"""


def test_tuning_freezes_start_up_and_keeps_the_collector_running() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
