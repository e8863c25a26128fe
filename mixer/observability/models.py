"""The one table observability keeps: when each job worker was last seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mixer.db_types import UTCDateTime
from mixer.extensions import Model


class WorkerSeen(Model):
    """A ``mixer worker`` process (``host:pid``) and the last time it said so."""

    __tablename__ = "worker_seen"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<WorkerSeen {self.name} {self.last_seen:%Y-%m-%d %H:%M:%S}>"
