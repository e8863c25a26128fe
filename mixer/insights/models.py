"""The dashboard's snapshot cache (``docs/insights.md``, "Freshness").

One row per organization and filter: the figures of ``dashboard()`` as JSON
(``mixer.insights.cache`` writes and reads them), when they were computed and
when a page or the API last read them (the worker keeps recently read filters
warm). A row is a cache: deleting any of them loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mixer.db_types import UTCDateTime
from mixer.extensions import Model


class InsightSnapshot(Model):
    """The dashboard's figures for one organization and filter, as computed at
    ``computed_at``."""

    __tablename__ = "insight_snapshot"
    __table_args__ = (UniqueConstraint("org_id", "filter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    # InsightFilter in canonical form: "from=2026-01-01&to=2026-12-31&department=
    # &kind=&event=" (``cache.filter_key``).
    filter_key: Mapped[str] = mapped_column(String(200))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return (
            f"<InsightSnapshot org={self.org_id} {self.filter_key} "
            f"at {self.computed_at:%Y-%m-%d %H:%M}>"
        )
