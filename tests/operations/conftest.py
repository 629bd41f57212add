"""Fixtures of the operations tests: METRICS_TOKEN set, and reading a scrape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from skilltree.config import get_settings

TOKEN = "a-metrics-token-for-tests-0123456789"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def metrics_token() -> Iterator[str]:
    """METRICS_TOKEN set for this test (the settings read again before and after it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("METRICS_TOKEN", TOKEN)
        get_settings.cache_clear()
        yield TOKEN
    get_settings.cache_clear()


def series(scrape: str) -> Series:
    """Every sample of a scrape in Prometheus' text format, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
    }


def value(found: Series, name: str, **labels: str) -> float:
    """The sample `name` with exactly `labels` (0 when absent: a counter not yet counted)."""
    return found.get((name, frozenset(labels.items())), 0.0)
