"""The benchmarks are not run by the test suite (they take minutes), but every one of them must
at least import: a renamed helper would otherwise only show up at the next `make bench`."""

from __future__ import annotations

import importlib
import pkgutil

import benchmarks
import pytest

MODULES = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name != "__main__")


def test_there_are_benchmarks() -> None:
    assert {"bench_tree_document", "bench_progress", "bench_search"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    if name.startswith("bench_"):
        assert callable(module.main)
