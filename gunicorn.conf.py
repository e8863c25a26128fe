"""gunicorn settings for Mixer; gunicorn reads this file when started here.

    .venv/bin/gunicorn wsgi:app                     # these defaults
    MIXER_BIND=0.0.0.0:8000 .venv/bin/gunicorn wsgi:app
    WEB_CONCURRENCY=3 MIXER_WEB_THREADS=2 .venv/bin/gunicorn wsgi:app

Sizing (measured in docs/performance.md, explained in docs/deployment.md): one
worker process per CPU core, four threads each. A request is mostly Python (one
core at a time per process) plus short waits on the database; more processes than
cores only queue for the CPU, and more threads per process queue for the GIL. On
the 2-core reference machine 2 × 4 gave more check-ins a second and about half the
99th-percentile latency of 4 × 4 or 4 × 8. Flags on the command line win over this
file (``--workers 4``).
"""

from __future__ import annotations

import os


def _cores() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("MIXER_BIND", "127.0.0.1:8000")
workers = _int("WEB_CONCURRENCY", _cores())
worker_class = "gthread"
threads = _int("MIXER_WEB_THREADS", 4)
# Behind nginx (deploy/ and docs/deployment.md) keep-alive connections come from
# the proxy; longer than nginx's upstream keepalive_timeout (60 s) is pointless.
keepalive = _int("MIXER_WEB_KEEPALIVE", 5)
# No request should take long (big PDFs are drawn by the job worker); a worker
# silent for this long is restarted.
timeout = _int("MIXER_WEB_TIMEOUT", 60)
graceful_timeout = 30
# Recycle a worker now and then, staggered, so no slow growth builds up.
max_requests = _int("MIXER_WEB_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
# Not preloaded: every worker builds its own application and database pool after
# the fork, so no connection is ever shared between processes.
preload_app = False
accesslog = os.environ.get("MIXER_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("MIXER_LOG_LEVEL", "info")


def on_starting(server) -> None:
    """Publish the number of web processes gunicorn really starts (``--workers``
    included) to the application it loads in each of them: MIXER_ENV=production
    refuses SQLite behind several (mixer/config.py, ``web_processes``)."""
    os.environ["MIXER_WEB_PROCESSES"] = str(server.cfg.workers)
