"""Tests of the audit trail; ``audited`` reads what was recorded."""

from __future__ import annotations

from sqlalchemy import select

from mixer.audit.models import AuditEntry
from mixer.extensions import db


def audited(prefix: str = "") -> list[AuditEntry]:
    """The entries whose action starts with ``prefix``, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id)
        )
    )
