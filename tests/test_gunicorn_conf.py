"""The shipped gunicorn.conf.py: one process per usable core, four threads each,
every default overridable from the environment (docs/deployment.md)."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
NAMES = ("WEB_CONCURRENCY", "MIXER_WEB_THREADS", "MIXER_BIND", "MIXER_WEB_TIMEOUT")


def _settings(monkeypatch, **env: str) -> dict:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_defaults_follow_the_cores_this_process_may_use(monkeypatch):
    settings = _settings(monkeypatch)
    assert settings["workers"] == len(os.sched_getaffinity(0))
    assert (settings["worker_class"], settings["threads"]) == ("gthread", 4)
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["preload_app"] is False
    assert settings["max_requests_jitter"] == settings["max_requests"] // 10


def test_the_environment_sizes_it(monkeypatch):
    settings = _settings(
        monkeypatch,
        WEB_CONCURRENCY="3",
        MIXER_WEB_THREADS="2",
        MIXER_BIND="0.0.0.0:9000",
        MIXER_WEB_TIMEOUT="",
    )
    assert (settings["workers"], settings["threads"]) == (3, 2)
    assert settings["bind"] == "0.0.0.0:9000"
    assert settings["timeout"] == 60  # empty means the default


def test_gunicorn_accepts_every_setting(monkeypatch):
    """gunicorn's own configuration knows every name the file sets."""
    from gunicorn.config import Config

    known = set(Config().settings)
    settings = _settings(monkeypatch)
    ours = {k for k, v in settings.items() if not k.startswith("_") and k.islower()}
    ours -= {"os", "annotations"}
    unknown = {k for k in ours if k not in known and not callable(settings[k])}
    assert not unknown, unknown


@pytest.mark.parametrize("value", ["abc", "-"])
def test_a_wrong_number_is_an_error_at_start(monkeypatch, value):
    with pytest.raises(ValueError):
        _settings(monkeypatch, WEB_CONCURRENCY=value)
