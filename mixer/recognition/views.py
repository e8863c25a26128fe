"""Web pages of the recognition feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("recognition", __name__)
