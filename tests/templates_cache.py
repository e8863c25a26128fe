"""Compiled templates shared by every app one test process builds.

Each test builds its own application, and a fresh Jinja environment compiles
every template it renders again: a fifth of the suite's time went into that.
The cache keeps the compiled code of each template by name and source checksum
(``jinja2.BytecodeCache``), so a changed template is compiled again, and every
app still gets its own environment, globals and filters.
"""

from __future__ import annotations

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from mixer import create_app


class SharedBytecodeCache(BytecodeCache):
    """An in-memory bytecode cache for the life of the test process."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedBytecodeCache()


def build_app(config: dict) -> Flask:
    """``create_app(config)`` with the shared template cache."""
    app = create_app(config)
    app.jinja_env.bytecode_cache = TEMPLATES
    return app
