"""Organizations, their departments, memberships and invitations."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock, signals
from mixer.accounts.models import User
from mixer.db_types import UTCDateTime
from mixer.errors import DomainError
from mixer.extensions import Model, db

ROLES = ("admin", "organizer", "speaker", "member")
ORG_KINDS = ("company", "school", "community")
# A role as a word in a sentence ("You are an admin here") and as a label
# ("Admin"); both lazy, said in the page's language when shown.
ROLE_NAMES = {
    "admin": _l("admin"),
    "organizer": _l("organizer"),
    "speaker": _l("speaker"),
    "member": _l("member"),
}
ROLE_LABELS = {
    "admin": _l("Admin"),
    "organizer": _l("Organizer"),
    "speaker": _l("Speaker"),
    "member": _l("Member"),
}
# Who may do what: a role includes the powers of every role after it.
ROLE_RANK = {"admin": 3, "organizer": 2, "speaker": 1, "member": 0}
DEPARTMENT_NAME_MAX = 80
LEVEL_MAX = 80
LOCATION_MAX = 80
# Mentees and mentoring pairs a person takes on at most, unless they say otherwise.
DEFAULT_MENTORING_CAPACITY = 3
MENTORING_CAPACITY_MAX = 20
# Languages a member may list, and the length of each name or code.
LANGUAGES_MAX = 10
LANGUAGE_MAX = 40


class OrgError(DomainError):
    """A request about organizations that cannot be met; the message is for people."""


def clean_level(level: int | str | None) -> int | None:
    """A member's level from a form or the API: a whole number 0–80, or None."""
    if level in (None, ""):
        return None
    try:
        value = int(level)
    except (TypeError, ValueError) as exc:
        raise OrgError(
            _("Level must be a whole number of years (0–80)."), "level"
        ) from exc
    if not 0 <= value <= LEVEL_MAX:
        raise OrgError(_("Level must be a whole number of years (0–80)."), "level")
    return value


def clean_location(location: str | None) -> str | None:
    """A location from a form, a CSV cell or the API: spaces collapsed, at most
    80 characters; None when blank."""
    text = " ".join((location or "").split())
    if len(text) > LOCATION_MAX:
        raise OrgError(
            _("A location can have at most %(num)d characters.", num=LOCATION_MAX),
            "location",
        )
    return text or None


def clean_languages(languages: str | list[str] | None) -> list[str]:
    """Languages from a comma- or semicolon-separated text or a list: each trimmed,
    spaces collapsed, lower-cased (so "English" and "english" are one language),
    duplicates dropped, in the order given; at most 10 of at most 40 characters."""
    if languages is None:
        return []
    if isinstance(languages, str):
        parts = languages.replace(";", ",").split(",")
    else:
        parts = [str(item) for item in languages]
    cleaned: list[str] = []
    for part in parts:
        typed = " ".join(part.split())
        # Lower case after the length check: a few letters grow ("İ" → "i̇").
        name = typed.lower()
        if not name or name in cleaned:
            continue
        if len(typed) > LANGUAGE_MAX:
            raise OrgError(
                _(
                    "A language can have at most %(num)d characters "
                    "(“%(name)s…” is longer).",
                    num=LANGUAGE_MAX,
                    name=name[:20],
                ),
                "languages",
            )
        cleaned.append(name)
    if len(cleaned) > LANGUAGES_MAX:
        raise OrgError(
            _(
                "List at most %(num)d languages (%(given)d given).",
                num=LANGUAGES_MAX,
                given=len(cleaned),
            ),
            "languages",
        )
    return cleaned


def clean_mentoring_capacity(capacity: int | str | None) -> int:
    """How many mentees and mentoring pairs someone takes on: a whole number from 0
    to 20; blank means the default (3)."""
    if capacity is None or (isinstance(capacity, str) and not capacity.strip()):
        return DEFAULT_MENTORING_CAPACITY
    message = _(
        "Use a whole number from 0 (none right now) to %(num)d.",
        num=MENTORING_CAPACITY_MAX,
    )
    if isinstance(capacity, bool):
        raise OrgError(message, "mentoring_capacity")
    try:
        value = int(str(capacity).strip())
    except ValueError as exc:
        raise OrgError(message, "mentoring_capacity") from exc
    if not 0 <= value <= MENTORING_CAPACITY_MAX:
        raise OrgError(message, "mentoring_capacity")
    return value


class Organization(Model):
    """A tenant: a company, school or community centre."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="company")
    charter: Mapped[str] = mapped_column(Text, default="")
    # The language of members whose browser asks for none we have, and of their
    # mail (mixer.i18n); validated by ``set_default_locale``, not a CHECK.
    default_locale: Mapped[str] = mapped_column(
        String(8), default="en", server_default="en"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    departments: Mapped[list[Department]] = relationship(
        back_populates="org", cascade="all, delete-orphan", order_by="Department.name"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="org", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint(f"kind IN {ORG_KINDS!r}", name="kind"),)

    @property
    def level_label(self) -> str:
        """What "level" means here: school year in schools, else experience."""
        return _("School year") if self.kind == "school" else _("Years of experience")

    def department_named(self, name: str | None) -> Department | None:
        """The department called ``name`` (any case), created when new; None for a
        blank name."""
        name = " ".join((name or "").split())
        if not name:
            return None
        if len(name) > DEPARTMENT_NAME_MAX:
            raise OrgError(
                _("A department name can have at most 80 characters."), "department"
            )
        for dept in self.departments:
            if dept.name.lower() == name.lower():
                return dept
        dept = Department(org=self, name=name)
        db.session.add(dept)
        db.session.flush()
        return dept

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


class Department(Model):
    """A department, class or group inside an organization."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))

    org: Mapped[Organization] = relationship(back_populates="departments")

    __table_args__ = (UniqueConstraint("org_id", "name"),)

    def __repr__(self) -> str:
        return f"<Department {self.org_id}:{self.name}>"


class Membership(Model):
    """A person's place in an organization: role, department and level."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default="member")
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    # Years of experience, or school year for schools.
    level: Mapped[int | None]
    # The member's manager (another membership of the same organization): a mixer
    # never seats anyone with their own manager or direct report.
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("membership.id", ondelete="SET NULL"), index=True
    )
    # Where they work (a site, campus or city) and the languages they speak, as
    # lower-case names or codes ("english", "de"): tables prefer a shared language.
    location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # How many mentees and mentoring pairs they take on at most, and the date
    # before which they take on none ("not until March").
    mentoring_capacity: Mapped[int] = mapped_column(
        default=DEFAULT_MENTORING_CAPACITY,
        server_default=str(DEFAULT_MENTORING_CAPACITY),
    )
    available_from: Mapped[date | None]
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    org: Mapped[Organization] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")
    department: Mapped[Department | None] = relationship()
    manager: Mapped[Membership | None] = relationship(remote_side="Membership.id")

    __table_args__ = (
        UniqueConstraint("org_id", "user_id"),
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint("level IS NULL OR (level >= 0 AND level <= 80)", name="level"),
        CheckConstraint(
            f"mentoring_capacity >= 0 AND mentoring_capacity <= "
            f"{MENTORING_CAPACITY_MAX}",
            name="mentoring_capacity",
        ),
        CheckConstraint("manager_id IS NULL OR manager_id <> id", name="manager"),
    )

    def update_details(self, department: str | None, level: int | str | None) -> None:
        """Set the department (created when new) and level; blanks clear them."""
        level_value = clean_level(level)
        self.department = self.org.department_named(department)
        self.level = level_value
        db.session.flush()

    def update_mentoring(
        self, capacity: int | str | None, available_from: date | None
    ) -> None:
        """Set how many mentees and mentoring pairs this person takes on at most,
        and the date before which they take on none (None: from now on).

        A date in the past is kept as given: it simply means "available now".
        Sends ``signals.availability_changed`` when either changed, so mutual
        choices that the old values held back can form.
        """
        capacity_value = clean_mentoring_capacity(capacity)
        changed = (capacity_value, available_from) != (
            self.mentoring_capacity,
            self.available_from,
        )
        self.mentoring_capacity = capacity_value
        self.available_from = available_from
        db.session.flush()
        if changed:
            signals.availability_changed.send(self)

    def is_available_on(self, day: date) -> bool:
        """Whether they take on mentees on ``day`` (capacity aside)."""
        return self.available_from is None or self.available_from <= day

    def has_role(self, role: str) -> bool:
        """Whether this membership carries at least the powers of ``role``."""
        return self.role_covers(self.role, role)

    @staticmethod
    def role_covers(held: str, wanted: str) -> bool:
        """Whether the role ``held`` carries at least the powers of ``wanted``."""
        return ROLE_RANK[held] >= ROLE_RANK[wanted]

    def __repr__(self) -> str:
        return f"<Membership org={self.org_id} user={self.user_id} {self.role}>"


class Invitation(Model):
    """An e-mailed invitation to join an organization."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default="member")
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    level: Mapped[int | None]
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship()
    department: Mapped[Department | None] = relationship()
    invited_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    @property
    def is_pending(self) -> bool:
        """Neither accepted nor withdrawn (it may still have expired)."""
        return self.accepted_at is None and self.revoked_at is None

    def has_expired(self) -> bool:
        """Whether the invitation's time is up."""
        return self.expires_at <= clock.now()

    def __repr__(self) -> str:
        return f"<Invitation {self.email} → org {self.org_id}>"
