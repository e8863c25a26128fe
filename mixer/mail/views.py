"""Admin view of the outbox: failed deliveries and retries (TODO(mail helper))."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mail", __name__)
