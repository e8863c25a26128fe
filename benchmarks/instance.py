"""A fresh Mixer instance for a benchmark: a temporary folder, and SQLite in it
or a new database on a PostgreSQL server."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fresh_postgres(server_url: str, name: str) -> str:
    """Create an empty database ``name`` on the server (dropped first); its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def fresh_instance(postgres: str, name: str) -> Path:
    """Point the environment at a new instance folder and database (SQLite in
    the folder, or ``name`` on the ``postgres`` server when one is given), with
    the cheapest password hashing; the folder."""
    instance = Path(tempfile.mkdtemp(prefix="mixer-bench-"))
    url = (
        fresh_postgres(postgres, name)
        if postgres
        else f"sqlite:///{instance / 'mixer.sqlite3'}"
    )
    os.environ.update(
        {
            "MIXER_INSTANCE_PATH": str(instance),
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "MIXER_ARGON2_PROFILE": "CHEAPEST",
        }
    )
    return instance


PASSWORD = "correct horse battery staple"  # the benchmark organizers' password


def sign_in(client, email: str, password: str = PASSWORD) -> None:
    """Sign ``client`` (Flask's test client) in through the real form."""
    import re

    got = client.get("/login")
    page = got.get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
    assert token, f"no CSRF token on the sign-in page ({got.status_code})"
    client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token.group(1)},
    )


def measure_call(engine, call, repeat: int) -> tuple[dict, object]:
    """Run ``call()`` ``repeat`` times: the median and best time in ms and the SQL
    statements of one run (a ``before_cursor_execute`` listener on ``engine``),
    and what the last run returned."""
    import statistics
    import time

    from sqlalchemy import event

    statements = [0]

    def count(*_args, **_kw):
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        times, sql, result = [], 0, None
        for _ in range(repeat):
            statements[0] = 0
            wall = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - wall)
            sql = statements[0]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    figures = {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "best_ms": round(min(times) * 1000, 1),
        "sql_statements": sql,
    }
    return figures, result


def measure_page(client, engine, path: str, repeat: int, profile: bool) -> dict:
    """Fetch ``path`` ``repeat`` times (Flask's test client): the median and best
    time in ms, the answer's size in KB and the SQL statements of one fetch
    (``measure_call``). ``profile``: print the cProfile of one more fetch."""

    def fetch():
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        return resp

    figures, resp = measure_call(engine, fetch, repeat)
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, path)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return {**figures, "kb": round(len(resp.data) / 1024, 1)}
