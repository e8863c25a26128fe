"""Every feature's models, imported so the metadata (and Alembic) sees them all."""

from mixer.accounts.models import ApiToken, UsedToken, User
from mixer.events.models import CalendarFeed, Event, EventSession, Registration  # noqa: F401
from mixer.jobs.models import Job
from mixer.mail.models import OutboxMessage
from mixer.orgs.models import Department, Invitation, Membership, Organization

__all__ = [
    "ApiToken",
    "Department",
    "Invitation",
    "Job",
    "Membership",
    "Organization",
    "OutboxMessage",
    "UsedToken",
    "User",
]
