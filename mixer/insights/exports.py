"""CSV and XLSX exports of an organization's programme, streamed and spreadsheet-safe.

Five datasets (``DATASETS``), each narrowed by an ``InsightFilter``: attendees,
connections, pairs with their check-in history, follow-up answers without names,
and ratings per event. Rows are read with a streaming query (``yield_per``), never
all at once. What is never exported: follow-up choices, reflections, "we talked"
notes, pair notes ("what helped"), end-of-term feedback, and anything that names
who gave an answer or a rating.

Spreadsheet-safe: a CSV cell that would start a formula gets a leading ``'``
(``mixer.formatting.spreadsheet_text``; plain numbers and phone numbers stay as
written); an XLSX cell of text is always a text cell, never a formula, so it needs
no prefix. Dates are real dates in XLSX and ISO 8601 in CSV; times are UTC.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from mixer.accounts.models import User
from mixer.connections.models import Connection, ConnectionSource
from mixer.events.models import KIND_LABELS, NO_EMAIL_DOMAIN, Event, Registration
from mixer.extensions import db
from mixer.followup.models import FollowupPrompt
from mixer.formatting import spreadsheet_text
from mixer.insights.figures import FEWER, SMALL, Count
from mixer.insights.filters import InsightFilter
from mixer.orgs.models import Department, Membership, Organization
from mixer.pairs.models import Pair, PairMeeting

YIELD_PER = 1000  # rows fetched from the database at a time
CSV_CHUNK_ROWS = 500  # rows per chunk of a CSV download
FILE_CHUNK = 64 * 1024  # bytes per chunk of an XLSX download
SPOOL = 1024 * 1024  # an XLSX smaller than this never touches the disk
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}
XLSX_TEXT_MAX = 32_767  # characters a spreadsheet cell holds

MET_BY = {
    ConnectionSource.ROTATION: "rotation round",
    ConnectionSource.SCAN: "badge scan",
    ConnectionSource.NOTE: "“we talked” note",
    ConnectionSource.MANUAL: "added by an organizer",
}

Value = str | int | float | date | datetime | Count | None
Row = tuple[Value, ...]


@dataclass(frozen=True)
class Dataset:
    """One export: its sheet title, column headings and widths, and its rows."""

    name: str
    title: str
    columns: tuple[tuple[str, int], ...]  # (heading, width in characters)
    rows: Callable[[Organization, InsightFilter], Iterator[Row]]


# ---------------------------------------------------------------------------
# What each dataset holds


def _stream(stmt: Select) -> Iterator[Any]:
    """The rows of ``stmt``, fetched ``YIELD_PER`` at a time."""
    yield from db.session.execute(stmt.execution_options(yield_per=YIELD_PER))


def _in_department(org: Organization, f: InsightFilter, *users: Any) -> Any:
    """Whether any of the ``users`` (user id columns) is in the filter's
    department now."""
    return (
        select(Membership.id)
        .where(
            Membership.org_id == org.id,
            Membership.department_id == f.department_id,
            or_(*(Membership.user_id == user for user in users)),
        )
        .exists()
    )


def _with_department(
    stmt: Select, org: Organization, reg: Any
) -> tuple[Select, ColumnElement[Any]]:
    """``stmt`` joined to the department of ``reg``'s person now, and its name:
    the membership's for a member, the one given at registration for a guest."""
    member, department = aliased(Membership), aliased(Department)
    stmt = stmt.outerjoin(
        member, and_(member.org_id == org.id, member.user_id == reg.user_id)
    ).outerjoin(department, department.id == member.department_id)
    name = case((member.id.is_(None), reg.department), else_=department.name)
    return stmt, name


def _day(moment: datetime | None) -> date | None:
    """The UTC calendar day of ``moment``."""
    return moment.astimezone(UTC).date() if moment else None


def attendee_rows(org: Organization, f: InsightFilter) -> Iterator[Row]:
    """Every registration at the period's events, with its check-in time."""
    stmt = select(
        Event.title,
        Event.starts_at,
        Event.kind,
        Registration.name,
        Registration.email,
        Registration.status,
        Registration.checked_in_at,
    ).join(Registration, Registration.event_id == Event.id)
    stmt, department = _with_department(stmt, org, Registration)
    stmt = stmt.add_columns(department).where(*f.event_conditions(org.id))
    if f.department_id is not None:
        stmt = stmt.where(_in_department(org, f, Registration.user_id))
    # In the order people signed up: the same on every database (names sort
    # differently under each collation).
    stmt = stmt.order_by(Event.starts_at, Event.id, Registration.id)
    for title, starts, kind, name, email, status, checked_in, dept in _stream(stmt):
        # A walk-in without an address has a made-up one nobody should mail.
        email = "" if email.endswith("@" + NO_EMAIL_DOMAIN) else email
        yield (
            title,
            _day(starts),
            KIND_LABELS[kind],
            name,
            email,
            dept,
            status.value,
            checked_in,
        )


def connection_rows(org: Organization, f: InsightFilter) -> Iterator[Row]:
    """Every two people who met at the period's events, and how."""
    a, b = aliased(Registration), aliased(Registration)
    stmt = (
        select(Event.title, Event.starts_at, a.name, b.name, Connection.source)
        .select_from(Connection)
        .join(Event, Event.id == Connection.event_id)
        .join(a, a.id == Connection.a_id)
        .join(b, b.id == Connection.b_id)
    )
    stmt, department_a = _with_department(stmt, org, a)
    stmt, department_b = _with_department(stmt, org, b)
    stmt = stmt.add_columns(department_a, department_b).where(
        *f.event_conditions(org.id)
    )
    if f.department_id is not None:
        stmt = stmt.where(_in_department(org, f, a.user_id, b.user_id))
    stmt = stmt.order_by(Event.starts_at, Event.id, Connection.id)
    for title, starts, name_a, name_b, source, dept_a, dept_b in _stream(stmt):
        yield (title, _day(starts), name_a, dept_a, name_b, dept_b, MET_BY[source])


def pair_rows(org: Organization, f: InsightFilter) -> Iterator[Row]:
    """One row per check-in of each pair formed in the period (one row with no
    check-in for a pair that has none); never their notes."""
    a, b = aliased(User), aliased(User)
    in_period = and_(Event.starts_at >= f.since, Event.starts_at < f.until)
    # A pair from an event belongs to its event's period; one from an ask (or
    # whose event is gone) to the period it started in.
    formed = or_(
        and_(Event.id.is_not(None), in_period),
        and_(Event.id.is_(None), Pair.started_at >= f.since, Pair.started_at < f.until),
    )
    stmt = (
        select(
            Pair.id,
            Pair.mentor_id,
            Pair.b_id,
            a.name,
            b.name,
            Pair.kind,
            Pair.status,
            Pair.started_at,
            PairMeeting.number,
            PairMeeting.due_at,
            PairMeeting.status,
            PairMeeting.reported_at,
        )
        .select_from(Pair)
        .join(a, a.id == Pair.a_id)
        .join(b, b.id == Pair.b_id)
        .outerjoin(Event, Event.id == Pair.event_id)
        .outerjoin(PairMeeting, PairMeeting.pair_id == Pair.id)
        .where(Pair.org_id == org.id, formed)
    )
    if f.kind is not None:
        stmt = stmt.where(Event.kind == f.kind)
    if f.event_id is not None:
        stmt = stmt.where(Pair.event_id == f.event_id)
    if f.department_id is not None:
        stmt = stmt.where(_in_department(org, f, Pair.a_id, Pair.b_id))
    stmt = stmt.order_by(Pair.started_at, Pair.id, PairMeeting.number)
    for row in _stream(stmt):
        (pair_id, mentor_id, b_id, name_a, name_b, kind, status, started) = row[:8]
        number, due, outcome, reported = row[8:]
        if mentor_id is not None and mentor_id == b_id:
            name_a, name_b = name_b, name_a  # the mentor first
        yield (
            pair_id,
            name_a,
            name_b,
            kind.value,
            status.value,
            _day(started),
            number,
            _day(due),
            outcome.value if outcome else None,
            _day(reported),
        )


def answer_rows(org: Organization, f: InsightFilter) -> Iterator[Row]:
    """Follow-up ratings and comments, without who gave them, of the events with
    at least ``SMALL`` answers (fewer could single a person out)."""
    answered = and_(
        FollowupPrompt.answered_at.is_not(None),
        or_(FollowupPrompt.rating.is_not(None), FollowupPrompt.comment.is_not(None)),
    )
    terms = [answered, *f.event_conditions(org.id)]
    if f.department_id is not None:
        terms.append(_in_department(org, f, FollowupPrompt.user_id))
    enough = (
        select(FollowupPrompt.event_id)
        .join(Event, Event.id == FollowupPrompt.event_id)
        .where(*terms)
        .group_by(FollowupPrompt.event_id)
        .having(func.count() >= SMALL)
    )
    # Ordered by what was said, never by who or when (an id or a time would let
    # someone who knows the order of answers tell whose is whose).
    stmt = (
        select(Event.title, Event.starts_at, FollowupPrompt.rating)
        .add_columns(FollowupPrompt.comment)
        .select_from(FollowupPrompt)
        .join(Event, Event.id == FollowupPrompt.event_id)
        .where(*terms, FollowupPrompt.event_id.in_(enough))
        .order_by(
            Event.starts_at,
            Event.id,
            FollowupPrompt.rating.desc().nulls_last(),
            FollowupPrompt.comment.nulls_first(),
        )
    )
    for title, starts, rating, comment in _stream(stmt):
        yield (title, _day(starts), rating, comment)


def rating_rows(org: Organization, f: InsightFilter) -> Iterator[Row]:
    """Per event with a follow-up: the number of ratings, the average (from
    ``SMALL`` ratings) and the count of each star, counts under 5 hidden."""
    rating = FollowupPrompt.rating
    stars = [func.sum(case((rating == star, 1), else_=0)) for star in range(1, 6)]
    stmt = (
        select(
            Event.title,
            Event.starts_at,
            Event.kind,
            func.count(FollowupPrompt.rating),
            func.sum(FollowupPrompt.rating),
            *stars,
        )
        .select_from(FollowupPrompt)
        .join(Event, Event.id == FollowupPrompt.event_id)
        .where(*f.event_conditions(org.id))
        .group_by(Event.id, Event.title, Event.starts_at, Event.kind)
        .order_by(Event.starts_at, Event.id)
    )
    if f.department_id is not None:
        stmt = stmt.where(_in_department(org, f, FollowupPrompt.user_id))
    for title, starts, kind, count, total, *per_star in _stream(stmt):
        average = round(int(total) / count, 2) if count >= SMALL else None
        yield (
            title,
            _day(starts),
            KIND_LABELS[kind],
            Count(count),
            average,
            *(Count(int(n or 0)) for n in per_star),
        )


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "attendees",
            "Attendees",
            (
                ("Event", 30),
                ("Event date", 12),
                ("Kind", 14),
                ("Name", 24),
                ("E-mail", 28),
                ("Department", 18),
                ("Registration status", 12),
                ("Checked in (UTC)", 20),
            ),
            attendee_rows,
        ),
        Dataset(
            "connections",
            "Connections",
            (
                ("Event", 30),
                ("Event date", 12),
                ("Person A", 24),
                ("Department A", 18),
                ("Person B", 24),
                ("Department B", 18),
                ("How they met", 20),
            ),
            connection_rows,
        ),
        Dataset(
            "pairs",
            "Pairs",
            (
                ("Pair", 8),
                ("Mentor or person A", 24),
                ("Mentee or person B", 24),
                ("Kind", 12),
                ("Pair status", 12),
                ("Started", 12),
                ("Check-in", 10),
                ("Due", 12),
                ("Outcome", 12),
                ("Reported", 12),
            ),
            pair_rows,
        ),
        Dataset(
            "answers",
            "Answers",
            (("Event", 30), ("Event date", 12), ("Rating", 8), ("Comment", 60)),
            answer_rows,
        ),
        Dataset(
            "ratings",
            "Ratings",
            (
                ("Event", 30),
                ("Event date", 12),
                ("Kind", 14),
                ("Ratings", 12),
                ("Average rating", 10),
                ("1 star", 12),
                ("2 stars", 12),
                ("3 stars", 12),
                ("4 stars", 12),
                ("5 stars", 12),
            ),
            rating_rows,
        ),
    )
}


# ---------------------------------------------------------------------------
# Writing them


def file_name(org: Organization, dataset: str, fmt: str, f: InsightFilter) -> str:
    """``acme-attendees-2026-01-01-2026-12-31.xlsx`` (letters, digits, dashes)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", org.slug.lower()).strip("-") or "mixer"
    event = f"-event-{f.event_id}" if f.event_id is not None else ""
    return f"{slug}-{dataset}-{f.start.isoformat()}-{f.end.isoformat()}{event}.{fmt}"


def _csv_value(value: Value) -> str:
    """A cell as CSV text: dates ISO 8601, hidden counts in words, text safe."""
    if value is None:
        return ""
    if isinstance(value, Count):
        return FEWER if value.hidden else str(value.n)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return spreadsheet_text(value)


def csv_chunks(org: Organization, dataset: str, f: InsightFilter) -> Iterator[bytes]:
    """The dataset as UTF-8 CSV with a byte order mark (Excel then reads accents
    right), a few hundred rows per chunk."""
    spec = DATASETS[dataset]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([heading for heading, _ in spec.columns])
    for number, row in enumerate(spec.rows(org, f), start=1):
        writer.writerow([_csv_value(v) for v in row])
        if number % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


_WRAP = Alignment(wrap_text=True, vertical="top")
_BOLD = Font(bold=True)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Value) -> WriteOnlyCell | None:
    """A cell of the right type: text always a text cell (never a formula), dates
    and times real ones (UTC), hidden counts in words."""
    if value is None:
        return None
    if isinstance(value, Count):
        value = FEWER if value.hidden else value.n
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_TEXT_MAX]
        cell = WriteOnlyCell(sheet, value=text)
        # Text, even where openpyxl would guess a formula ("=…") or an error ("#N/A").
        cell.data_type = "s"
        if "\n" in text:
            cell.alignment = _WRAP
        return cell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.astimezone(UTC).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def xlsx_file(org: Organization, dataset: str, f: InsightFilter) -> IO[bytes]:
    """The dataset as an XLSX workbook in a temporary file, read from the start.

    A write-only workbook keeps only the row being written in memory and must be
    saved to a file; small ones stay in memory (``SPOOL``). The caller closes the
    file, which deletes it.
    """
    spec = DATASETS[dataset]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(spec.title)
    for index, (_, width) in enumerate(spec.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    headings = [WriteOnlyCell(sheet, value=heading) for heading, _ in spec.columns]
    for cell in headings:
        cell.font = _BOLD
    sheet.append(headings)
    for row in spec.rows(org, f):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # the caller closes it
    try:
        book.save(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes, ``FILE_CHUNK`` at a time; closed (so deleted) at the end
    or when the download is abandoned."""
    try:
        while chunk := file.read(FILE_CHUNK):
            yield chunk
    finally:
        file.close()
