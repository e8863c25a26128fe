"""The dashboard's filter form: a period, a department, an event kind (GET).

Its parameter names (``from``, ``to``, ``department``, ``kind``) are those the
exports and the API read, so a link built from ``FilterForm.params()`` carries
the page's filter to them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from mixer.events.models import KIND_LABELS, EventKind
from mixer.extensions import db
from mixer.insights.filters import DEFAULT_DAYS, InsightFilter
from mixer.orgs.models import Department, Organization

MAX_YEARS = 5
# Dates people may ask for: any programme's history, and far from ``date.max``
# (whose next day Python cannot count to).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)


def _add_years(day: date, years: int) -> date:
    """``day`` ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class FilterForm(FlaskForm):
    """What the dashboard shows: ``?from=&to=&department=&kind=``."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    start = DateField(
        "From",
        name="from",
        validators=[Optional()],
        invalid_value_message="Write a date as YYYY-MM-DD, like 2026-01-31.",
    )
    end = DateField(
        "To",
        name="to",
        validators=[Optional()],
        invalid_value_message="Write a date as YYYY-MM-DD, like 2026-12-31.",
    )
    department = SelectField("Department", choices=[], validate_choice=False)
    kind = SelectField("Event kind", choices=[], validate_choice=False)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        """Offer ``org``'s departments and the event kinds."""
        super().__init__(*args, **kwargs)
        self.org = org
        departments = db.session.execute(
            select(Department.id, Department.name)
            .where(Department.org_id == org.id)
            .order_by(Department.name)
        ).all()
        self.department.choices = [("", "All departments")] + [
            (str(dep_id), name) for dep_id, name in departments
        ]
        self.kind.choices = [("", "All kinds")] + [
            (kind.value, KIND_LABELS[kind]) for kind in EventKind
        ]

    def _period(self) -> tuple[date, date]:
        """The period asked for, the missing ends filled in as the exports do."""
        default = InsightFilter.default()
        end = self.end.data or default.end
        start = self.start.data or end - timedelta(days=DEFAULT_DAYS - 1)
        return start, end

    def validate_start(self, field: DateField) -> None:
        """A day in the range people may ask for."""
        if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(
                f"Choose a day between {FIRST_DAY.year} and {LAST_DAY.year}."
            )

    def validate_end(self, field: DateField) -> None:
        """On or after "From", at most five years later."""
        if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(
                f"Choose a day between {FIRST_DAY.year} and {LAST_DAY.year}."
            )
        if field.errors or self.start.errors:
            return  # one message a field: the date itself is wrong
        if not field.data and not self.start.data:
            return
        start, end = self._period()
        if end < start:
            raise ValidationError("“To” must be on or after “From”.")
        if end >= _add_years(start, MAX_YEARS):
            raise ValidationError(
                f"Choose a period of at most {MAX_YEARS} years: “To” must be before"
                f" {_add_years(start, MAX_YEARS):%-d %B %Y}."
            )

    def validate_department(self, field: SelectField) -> None:
        """One of the organization's departments (or all)."""
        if field.data and field.data not in {v for v, _ in field.choices}:
            raise ValidationError("Choose one of the departments in the list.")

    def validate_kind(self, field: SelectField) -> None:
        """One of the event kinds (or all)."""
        if field.data and field.data not in {k.value for k in EventKind}:
            raise ValidationError("Choose one of the event kinds in the list.")

    def to_filter(self) -> InsightFilter:
        """The ``InsightFilter`` of a validated form."""
        start, end = self._period()
        return InsightFilter(
            start=start,
            end=end,
            department_id=int(self.department.data) if self.department.data else None,
            kind=EventKind(self.kind.data) if self.kind.data else None,
        )

    @property
    def narrowed(self) -> bool:
        """Whether anything was asked beyond the default twelve months."""
        return any(f.data for f in (self.start, self.end, self.department, self.kind))

    @property
    def department_name(self) -> str | None:
        """The name of the department chosen, if one was."""
        if not self.department.data:
            return None
        return dict(self.department.choices).get(self.department.data)

    @property
    def kind_label(self) -> str | None:
        """ "Lunch & Learn" when that kind was chosen."""
        if not self.kind.data:
            return None
        return dict(self.kind.choices).get(self.kind.data)

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for links to the exports), the period
        always spelled out so that a link means the same days tomorrow."""
        start, end = self._period()
        out = {"from": start.isoformat(), "to": end.isoformat()}
        if self.department.data:
            out["department"] = self.department.data
        if self.kind.data:
            out["kind"] = self.kind.data
        return out
