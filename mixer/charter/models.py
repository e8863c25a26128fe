"""The mentoring charter's version and each member's acknowledgement of it.

The charter's words stay in ``Organization.charter``; ``Charter`` only counts
its versions: an admin who changed it substantially asks everyone to read it
again, which raises ``version``, and an acknowledgement of an older version no
longer counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model
from mixer.orgs.models import Membership


class Charter(Model):
    """An organization's charter version (absent: version 1)."""

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(default=1)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<Charter org={self.org_id} v{self.version}>"


class CharterAck(Model):
    """A member read the charter: the version they read, and when."""

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int]
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    membership: Mapped[Membership] = relationship()

    def __repr__(self) -> str:
        return f"<CharterAck membership={self.membership_id} v{self.version}>"
