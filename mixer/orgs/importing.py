"""The member CSV import: one person per row, refused rows listed with their line
and column, every other row imported.

A refused row changes nothing, and a row whose manager (another row of the file,
in any order, or a member already) cannot be set is refused as a whole: the
import runs in rounds inside a savepoint, and a round that refuses a row nobody
refused before is undone and run again without it, until a round refuses nothing
new. Most files take one round; a row naming a refused row as manager takes one
more.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select

from mixer.accounts.models import User
from mixer.accounts.services import AccountError, normalise_email
from mixer.audit.services import record
from mixer.errors import DomainError
from mixer.extensions import db
from mixer.orgs.details import known_location, set_manager
from mixer.orgs.models import Membership, Organization, OrgError, clean_languages
from mixer.orgs.services import add_member

CSV_COLUMNS = (
    "name",
    "email",
    "department",
    "level",
    "manager",
    "location",
    "languages",
)
REQUIRED_COLUMNS = ("name", "email")


class ImportProblem(NamedTuple):
    """A refused row: its line (the header is line 1), why, and the column at fault
    (None when the problem is the whole row or file)."""

    line: int
    message: str
    column: str | None = None


@dataclass
class ImportReport:
    """What a CSV import did: rows added or updated, and rows refused with reasons."""

    created: int = 0
    updated: int = 0
    errors: list[ImportProblem] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


class _Row(NamedTuple):
    line: int
    values: dict[str, str]


def _problem(line: int, exc: DomainError) -> ImportProblem:
    column = exc.field if exc.field in CSV_COLUMNS else None
    return ImportProblem(line, str(exc), column)


def _read(data: bytes | str) -> tuple[list[_Row], ImportProblem | None]:
    """The file's rows (values trimmed, headers lower-case), or the reason it
    cannot be read at all."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], ImportProblem(
                0,
                _("The file is not UTF-8 text. Save it as CSV UTF-8 and try again."),
            )
    else:
        text = data
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        return [], ImportProblem(
            1,
            _(
                "The header row needs the columns %(needed)s (and may have "
                "%(optional)s); missing: %(missing)s.",
                needed=", ".join(REQUIRED_COLUMNS),
                optional=", ".join(CSV_COLUMNS[2:]),
                missing=", ".join(missing),
            ),
        )
    reader.fieldnames = headers
    rows = [
        _Row(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k})
        for row in reader
    ]
    return rows, None


def import_members_csv(
    org: Organization, data: bytes | str, role: str = "member"
) -> ImportReport:
    """Import members from CSV (name, email; optionally department, level,
    manager, location, languages); bad rows are reported, the others imported.

    New people join with ``role``; people already here keep theirs. A blank cell
    leaves that detail as it is. ``manager`` is the manager's e-mail: a member
    already, or another row of this file; ``languages`` are separated by ``;`` or
    ``,`` inside the cell.
    """
    rows, unreadable = _read(data)
    report = _import(org, rows, role) if unreadable is None else None
    report = report or ImportReport(errors=[unreadable] if unreadable else [])
    refused_lines = len({p.line for p in report.errors})
    record(
        org.id,
        "members.imported",
        f"Imported members from a CSV file: {report.created} added, "
        f"{report.updated} updated, {refused_lines} rows refused",
        subject=("organization", org.id),
        details={
            "created": report.created,
            "updated": report.updated,
            "refused": refused_lines,
            "role": role,
        },
    )
    return report


def _import(org: Organization, rows: list[_Row], role: str) -> ImportReport:
    """Import ``rows`` in rounds until a round refuses no row not refused before."""
    refused: dict[int, ImportProblem] = {}
    while True:
        attempt = db.session.begin_nested()
        report = _import_rows(org, rows, role, refused)
        new = [p for p in report.errors if p.line not in refused]
        if not new:
            attempt.commit()
            report.errors.sort(key=lambda p: p.line)
            return report
        # Undo the round: a row refused now may have been written before its
        # refusal (its manager is set after every row is in).
        attempt.rollback()
        for problem in new:
            refused.setdefault(problem.line, problem)


def _import_rows(
    org: Organization,
    rows: list[_Row],
    role: str,
    refused: dict[int, ImportProblem],
) -> ImportReport:
    """One round: every row not ``refused``, then the managers they name."""
    report = ImportReport(errors=list(refused.values()))
    seen: set[str] = set()
    imported: dict[str, Membership] = {}
    lines_of: dict[str, int] = {}  # e-mail → line of the rows not imported
    managed: list[tuple[_Row, Membership]] = []
    for row in rows:
        if row.line in refused:
            _remember_line(lines_of, row)
            continue
        try:
            membership, created = _import_row(org, row, role, seen)
        except (OrgError, AccountError) as exc:
            report.errors.append(_problem(row.line, exc))
            _remember_line(lines_of, row)
            continue
        seen.add(membership.user.email)
        imported[membership.user.email] = membership
        if row.values.get("manager"):
            managed.append((row, membership))
        if created:
            report.created += 1
        else:
            report.updated += 1
    for row, membership in managed:
        try:
            with db.session.begin_nested():
                manager = _manager(org, row, imported, lines_of)
                set_manager(membership, manager)
        except (OrgError, AccountError) as exc:
            report.errors.append(ImportProblem(row.line, str(exc), "manager"))
    return report


def _remember_line(lines_of: dict[str, int], row: _Row) -> None:
    try:
        lines_of.setdefault(normalise_email(row.values.get("email", "")), row.line)
    except AccountError:
        pass


def _import_row(
    org: Organization, row: _Row, role: str, seen: set[str]
) -> tuple[Membership, bool]:
    """Add or update the person of one row in a savepoint of its own; whether
    they are new to the organization."""
    values = row.values
    address = normalise_email(values.get("email", ""))
    if address in seen:
        raise OrgError(
            _("%(email)s appears earlier in this file.", email=address), "email"
        )
    existing = db.session.scalar(select(User).where(User.email == address))
    current = existing.membership_in(org) if existing is not None else None
    # A savepoint per row: a refused row is undone alone, the rest stay.
    with db.session.begin_nested():
        membership = add_member(
            org,
            address,
            values.get("name", ""),
            role=current.role if current is not None else role,
            department=values.get("department") or None,
            level=values.get("level") or None,
        )
        if values.get("location"):
            membership.location = known_location(org, values["location"], membership.id)
        if values.get("languages"):
            membership.languages = clean_languages(values["languages"])
        db.session.flush()
    return membership, current is None


def _manager(
    org: Organization,
    row: _Row,
    imported: dict[str, Membership],
    lines_of: dict[str, int],
) -> Membership:
    """The member a row's ``manager`` cell names: a row of this file imported in
    this round, or a member already."""
    try:
        address = normalise_email(row.values["manager"])
    except AccountError as exc:
        raise OrgError(
            _(
                "The manager's e-mail is not valid: %(email)s.",
                email=row.values["manager"],
            ),
            "manager",
        ) from exc
    found = imported.get(address)
    if found is None:
        found = db.session.scalar(
            select(Membership)
            .join(Membership.user)
            .where(Membership.org_id == org.id, User.email == address)
        )
    if found is not None:
        return found
    if address in lines_of:
        raise OrgError(
            _(
                "The manager %(email)s is on line %(line)d, which was not "
                "imported: fix that row first.",
                email=address,
                line=lines_of[address],
            ),
            "manager",
        )
    raise OrgError(
        _(
            "No member of %(org)s and no row of this file has the e-mail "
            "%(email)s (the manager).",
            org=org.name,
            email=address,
        ),
        "manager",
    )
