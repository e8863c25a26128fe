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
