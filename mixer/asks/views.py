"""Web pages of the asks feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("asks", __name__)
