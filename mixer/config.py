"""Settings: defaults, then ``instance/config.py``, then the environment.

Every setting can be given as ``MIXER_<NAME>``; the plain ``DATABASE_URL``,
``SECRET_KEY`` and ``BASE_URL`` that hosting platforms set are honoured too.
``docs/configuration.md`` and the README list them.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "ENV_NAME": "development",  # MIXER_ENV=production makes SECRET_KEY mandatory
    "DATABASE_URL": None,  # None: SQLite file mixer.sqlite3 in the instance folder
    "BASE_URL": "http://127.0.0.1:5000",
    "MAIL_URL": None,  # None: one .eml per message in instance/outbox/
    "MAIL_FROM": "Mixer <mixer@localhost>",
    "MAX_UPLOAD_MB": 50,
    # Files (uploads, badge sheets, printouts; docs/deployment.md "Storage"):
    # unset, the instance folder; s3://bucket/prefix, S3-compatible storage.
    "STORAGE_URL": None,
    "STORAGE_ENDPOINT_URL": None,  # e.g. https://minio.internal:9000 (not AWS)
    "STORAGE_ACCESS_KEY_ID": None,  # None: boto3's usual credential chain
    "STORAGE_SECRET_ACCESS_KEY": None,
    "STORAGE_REGION": None,
    "ARGON2_PROFILE": None,  # None: RFC 9106 low-memory (tests: the cheapest)
    "MAGIC_LINK_MINUTES": 20,
    "PASSWORD_RESET_MINUTES": 60,
    "INVITATION_DAYS": 14,
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_BATCH_SIZE": 10,  # rows one claim takes: what a crashed worker holds back
    "JOB_BATCH_SIZE": 5,
    "WORKER_LEASE_SECONDS": 60,  # renewed while working; a dead worker's runs out
    "OUTBOX_KEEP_DAYS": 30,  # sent mail and finished jobs are deleted after this
    # Follow-up and pairs (docs/followup.md, docs/pairs.md)
    "FOLLOWUP_DELAY_HOURS": 2,  # prompts go this long after an event ends
    "FOLLOWUP_LINK_DAYS": 14,  # e-mailed prompt links work this long
    "FOLLOWUP_REMINDER_DAYS": 3,  # one reminder this long after the prompts; 0: none
    "FOLLOWUP_HOLD_DAYS": 90,  # a mutual choice held by capacity waits this long
    "PAIR_CADENCE_DAYS": 14,  # a check-in every two weeks by default
    "PAIR_CHECKIN_MINUTES": 5,
    "PAIR_TERM_DAYS": 90,  # a pair's term, then feedback and the option to renew
    "JOB_MAX_ATTEMPTS": 5,
    "WORKER_POLL_SECONDS": 2.0,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    "API_PAGE_SIZE": 50,
    "API_RATE_LIMIT": "600 per minute",  # per API token
    "API_AUTH_FAILURE_LIMIT": "30 per minute",  # refused API tokens per address
    # Insights (docs/insights.md, "Freshness"): the dashboard's figures are kept
    # this long, then served while the worker counts them again.
    "INSIGHTS_CACHE_MINUTES": 10,
    "INSIGHTS_WARM_DAYS": 7,  # the worker keeps filters read this recently warm
    "INSIGHTS_API_RATE_LIMIT": "30 per minute",  # /api/v1/insights per token
    "INSIGHTS_REFRESH_LIMIT": "6 per minute",  # "Refresh now" per person
    "BADGE_LINK_RATE_LIMIT": "120 per minute",  # /c/<token> per address
    # Rotation schedule and table-card PDFs of plans with more people are drawn
    # by the job worker (docs/rotations.md); smaller ones in the request.
    "ROTATION_PDF_INLINE_PEOPLE": 200,
    "FORCE_HTTPS": False,
    "PROXY_HOPS": 0,  # trusted reverse proxies in front (X-Forwarded-* headers)
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Sign-ins (docs/security.md): "remember me" and every sign-in end after
    # REMEMBER_DAYS; one without "remember me" after SIGN_IN_IDLE_HOURS unused.
    "REMEMBER_DAYS": 30,
    "SIGN_IN_IDLE_HOURS": 12,
    "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as the session
    # flask-smorest / OpenAPI
    "API_TITLE": "Mixer API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}

PLAIN_ENV: tuple[str, ...] = ("DATABASE_URL", "SECRET_KEY", "BASE_URL")

# Watching it (docs/operations.md): metrics, logs, readiness, error reports.
DEFAULTS.update(
    {
        "METRICS_TOKEN": None,  # /metrics wants "Authorization: Bearer <this>"
        "METRICS_ALLOW": "",  # or only from these CIDRs; neither: /metrics is 404
        "LOG_FORMAT": "text",  # "json": one JSON line per log record, request ids
        "SENTRY_DSN": None,  # errors to Sentry (needs sentry-sdk installed)
        "SENTRY_TRACES_SAMPLE_RATE": 0.0,
        "READY_WORKER_SECONDS": 120,  # /readyz wants a worker seen this lately; 0: no
        "WORKER_BEAT_SECONDS": 30,  # how often a worker records it is alive
    }
)
# Webhooks (docs/webhooks.md)
DEFAULTS.update(
    {
        "WEBHOOK_TIMEOUT_SECONDS": 10,  # an attempt without an answer by then failed
        # Development and tests only: http:// and loopback or private addresses
        # (production refuses to start with it: outbound requests into our network).
        "WEBHOOK_ALLOW_LOCAL": False,
        "WEBHOOK_CACHE_SECONDS": 5,  # how long a process trusts "who hears what"
    }
)
# Free/busy from people's own calendar feeds (docs/freebusy.md)
DEFAULTS.update(
    {
        "FREEBUSY_TIMEOUT_SECONDS": 10,  # per connection step, and for a whole fetch
        "FREEBUSY_MAX_BYTES": 2 * 1024 * 1024,  # a bigger feed is refused
        "FREEBUSY_REFRESH_MINUTES": 30,  # fetched again this often while set
        # Development and tests only (with TESTING or DEBUG): http:// and loopback
        # or private addresses (production refuses to start with it: SSRF).
        "FREEBUSY_ALLOW_LOCAL": False,
    }
)
PLAIN_ENV += ("METRICS_TOKEN", "METRICS_ALLOW", "LOG_FORMAT", "SENTRY_DSN")

log = logging.getLogger(__name__)


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in order: defaults, instance file, environment, tests."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name in PLAIN_ENV:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env("MIXER")
    if os.environ.get("MIXER_ENV"):
        app.config["ENV_NAME"] = os.environ["MIXER_ENV"]
    if test_config:
        app.config.from_mapping(test_config)
    _derive(app)


def _derive(app: Flask) -> None:
    cfg = app.config
    instance = Path(app.instance_path)
    url = cfg.get("DATABASE_URL") or f"sqlite:///{instance / 'mixer.sqlite3'}"
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Concurrent writers (two gunicorn threads, the worker) wait instead of failing.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})
    else:
        cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
        # PostgreSQL's JIT compiles a query whose estimated cost crosses its
        # thresholds: the insights funnel (150 ms to run) spent 1.6 s compiling.
        # Mixer's queries are short; none gains from it (docs/performance.md).
        cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault(
            "connect_args", {"options": "-c jit=off"}
        )
    cfg["BASE_URL"] = str(cfg["BASE_URL"]).rstrip("/")
    cfg["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_MB"]) * 1024 * 1024
    cfg["UPLOAD_FOLDER"] = str(instance / "uploads")
    cfg["OUTBOX_FOLDER"] = str(instance / "outbox")
    cfg["SESSION_COOKIE_SECURE"] = bool(cfg["FORCE_HTTPS"])
    _derive_remember_cookie(cfg)
    if cfg["ENV_NAME"] == "production":
        check_production(cfg)
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _instance_secret(instance)
    check_rate_limit_storage(cfg)


# Stores every gunicorn worker (and every server) sees alike; memory:// is per
# process, so N workers would each grant the whole limit.
SHARED_LIMIT_STORES = (
    "redis://",
    "rediss://",
    "redis+sentinel://",
    "redis+cluster://",
    "memcached://",
    "mongodb://",
    "mongodb+srv://",
    "valkey://",
    "valkeys://",
)


def rate_limit_storage_problem(cfg: Any) -> str | None:
    """Why the rate-limit counters are not shared by every process, if they are not."""
    uri = str(cfg.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not cfg.get("RATELIMIT_ENABLED", True) or uri.startswith(SHARED_LIMIT_STORES):
        return None
    return (
        f"RATELIMIT_STORAGE_URI={uri} keeps rate-limit counters in each process: "
        "with several gunicorn workers every limit is multiplied by their number. "
        "Set MIXER_RATELIMIT_STORAGE_URI=redis://host:6379 (shared by all workers)."
    )


def check_rate_limit_storage(cfg: Any) -> None:
    """Warn about per-process rate-limit counters (production refuses them:
    ``check_production``)."""
    problem = rate_limit_storage_problem(cfg)
    if problem and cfg["ENV_NAME"] != "production":
        if not cfg.get("TESTING") and not cfg.get("DEBUG"):
            log.warning(problem)


# --- MIXER_ENV=production: refuse settings that are unsafe or cannot work ------
# (docs/deployment.md "Production checks")


def check_production(cfg: Any) -> None:
    """Refuse to start in production with every unsafe setting named at once."""
    problems = [p for check in PRODUCTION_CHECKS if (p := check(cfg))]
    if problems:
        raise RuntimeError(
            "MIXER_ENV=production refuses to start:\n- " + "\n- ".join(problems)
        )


def _no_secret_key(cfg: Any) -> str | None:
    if cfg.get("SECRET_KEY"):
        return None
    return (
        "SECRET_KEY is not set: production needs an explicit SECRET_KEY "
        "(set SECRET_KEY or MIXER_SECRET_KEY), never one generated on one host."
    )


def _debug_on(cfg: Any) -> str | None:
    if not cfg.get("DEBUG"):
        return None
    return (
        "DEBUG is on (FLASK_DEBUG, MIXER_DEBUG or --debug): the debugger runs code "
        "sent by anyone who sees an error page. Switch it off."
    )


def web_processes(cfg: Any) -> tuple[int, str]:
    """How many web processes serve this database, and the setting that says so.

    gunicorn.conf.py publishes the number gunicorn really starts (command-line
    ``--workers`` included) as MIXER_WEB_PROCESSES; otherwise WEB_CONCURRENCY,
    which the same file reads, is what the environment declares.
    """
    if cfg.get("WEB_PROCESSES"):
        count = int(cfg["WEB_PROCESSES"])
        return count, "gunicorn's workers: WEB_CONCURRENCY, else one per CPU core"
    declared = os.environ.get("WEB_CONCURRENCY", "").strip()
    count = int(declared) if declared else 1
    return count, f"WEB_CONCURRENCY={count}"


def hosts(cfg: Any) -> int:
    """The machines running Mixer (web or job workers), as HOSTS declares."""
    return int(cfg.get("HOSTS") or 1)


def _sqlite_shared(cfg: Any) -> str | None:
    if not cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return None
    processes, setting = web_processes(cfg)
    if processes > 1:
        return (
            f"SQLite with {processes} web processes ({setting}): SQLite "
            "serialises writers, so requests queue behind each other. Set "
            "WEB_CONCURRENCY=1 or DATABASE_URL=postgresql://..."
        )
    if hosts(cfg) > 1:
        return (
            f"SQLite with MIXER_HOSTS={hosts(cfg)}: a SQLite file lives on one "
            "machine. Set DATABASE_URL=postgresql://... shared by every host."
        )
    return None


def _local_storage_shared(cfg: Any) -> str | None:
    storage = str(cfg.get("STORAGE_URL") or "local")
    if hosts(cfg) <= 1 or storage != "local":  # unset: the instance folder
        return None
    return (
        f"STORAGE_URL={storage} with MIXER_HOSTS={hosts(cfg)}: files stored in one "
        "host's instance folder cannot be read on another. Set "
        "STORAGE_URL=s3://bucket/prefix (object storage shared by every host)."
    )


def _memory_rate_limits(cfg: Any) -> str | None:
    return rate_limit_storage_problem(cfg)


def _webhooks_to_local(cfg: Any) -> str | None:
    if not cfg.get("WEBHOOK_ALLOW_LOCAL"):
        return None
    return (
        "WEBHOOK_ALLOW_LOCAL is on: webhooks could be pointed at this host and its "
        "private network (SSRF). It is for development and tests only."
    )


def _feeds_from_local(cfg: Any) -> str | None:
    if not cfg.get("FREEBUSY_ALLOW_LOCAL"):
        return None
    return (
        "FREEBUSY_ALLOW_LOCAL is on: calendar feeds could be fetched from this host "
        "and its private network (SSRF). It is for development and tests only."
    )


PRODUCTION_CHECKS = (
    _no_secret_key,
    _debug_on,
    _sqlite_shared,
    _local_storage_shared,
    _memory_rate_limits,
    _webhooks_to_local,
    _feeds_from_local,
)


def _derive_remember_cookie(cfg: Any) -> None:
    """The remember cookie lasts REMEMBER_DAYS, is Secure whenever the session
    cookie is, and is never readable by scripts."""
    cfg["REMEMBER_COOKIE_DURATION"] = timedelta(days=float(cfg["REMEMBER_DAYS"]))
    cfg["REMEMBER_COOKIE_SECURE"] = bool(cfg["SESSION_COOKIE_SECURE"])
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True


def normalise_database_url(url: str) -> str:
    """Map the URLs hosting platforms give to the drivers Mixer installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    """Generate the development secret once, readable only by its owner."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
