"""Web pages of the pairs feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pairs", __name__)
