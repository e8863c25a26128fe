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
