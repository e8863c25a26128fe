"""Fixtures for watching Mixer: /metrics read and parsed, as Prometheus would."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.checkin.conftest import door  # noqa: F401  (an org, organizer, event)

TOKEN = "metrics-token-for-tests"


def scrape(client, token: str = TOKEN) -> dict[tuple[str, tuple], float]:
    """``/metrics`` as ``{(sample name, sorted labels): value}``."""
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in samples, f"sample twice: {key}"
            samples[key] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_app(app_config):
    """/metrics switched on with a bearer token."""
    app_config["METRICS_TOKEN"] = TOKEN
    return app_config
