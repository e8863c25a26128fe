"""Web pages of the followup feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("followup", __name__)
