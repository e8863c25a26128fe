"""The dashboard's filter form: a period, a department, an event kind (GET).

Its fields are named as the exports and the API read them (``from``, ``to``,
``department``, ``kind``) and it reads them the same way, through
``mixer.insights.params.parse_filter``: one reading of the filter, so a link
built from ``FilterForm.params()`` means the same figures on every page. The
dashboard adds one rule of its own: at most five years (a bar a month).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.widgets import DateInput

from mixer.errors import show_on_form
from mixer.events.models import KIND_LABELS, EventKind
from mixer.extensions import db
from mixer.formatting import local_text
from mixer.insights.filters import InsightFilter
from mixer.insights.params import InsightsError, parse_filter
from mixer.orgs.models import Department, Organization

MAX_YEARS = 5
KEYS = ("from", "to", "department", "kind")


def _add_years(day: date, years: int) -> date:
    """``day`` ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


_FROM = StringField(_l("From"), widget=DateInput())


class FilterForm(FlaskForm):
    """What the dashboard shows: ``?from=&to=&department=&kind=``.

    The fields are text (a date input in the browser) so that whatever was typed
    comes back as typed with the message under it; ``parse_filter`` judges it.
    """

    class Meta:
        csrf = False  # a GET form that changes nothing

    to = StringField(_l("To"), widget=DateInput())
    department = SelectField(_l("Department"), choices=[], validate_choice=False)
    kind = SelectField(_l("Event kind"), choices=[], validate_choice=False)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        """Offer ``org``'s departments and the event kinds."""
        super().__init__(*args, **kwargs)
        self.org = org
        self.filter: InsightFilter | None = None
        self._narrowed = False
        departments = db.session.execute(
            select(Department.id, Department.name)
            .where(Department.org_id == org.id)
            .order_by(Department.name)
        ).all()
        self.department.choices = [("", _("All departments"))] + [
            (str(dep_id), name) for dep_id, name in departments
        ]
        self.kind.choices = [("", _("All kinds"))] + [
            (kind.value, KIND_LABELS[kind]) for kind in EventKind
        ]

    def validate(self, extra_validators: Any = None) -> bool:
        """Read the filter as the exports do; each refusal goes on its field."""
        if not super().validate(extra_validators):
            return False
        args = {key: (self[key].data or "") for key in KEYS}
        try:
            flt = parse_filter(self.org, args)
            if flt.end >= _add_years(flt.start, MAX_YEARS):
                limit = _add_years(flt.start, MAX_YEARS)
                raise InsightsError(
                    _(
                        "Choose a period of at most %(num)d years: “To” must be "
                        "before %(day)s.",
                        num=MAX_YEARS,
                        day=local_text(datetime.combine(limit, time.min), "%-d %B %Y"),
                    ),
                    field="to",
                )
        except InsightsError as exc:
            show_on_form(exc, self)
            return False
        self.filter = flt
        self._narrowed = any(self[key].data for key in KEYS)
        # The date fields show the period in use, the default one included.
        self["from"].data = self["from"].data or flt.start.isoformat()
        self.to.data = self.to.data or flt.end.isoformat()
        return True

    def to_filter(self) -> InsightFilter:
        """The ``InsightFilter`` of a validated form."""
        if self.filter is None:
            raise ValueError("validate() the form first")
        return self.filter

    @property
    def narrowed(self) -> bool:
        """Whether anything was asked beyond the default twelve months."""
        if self.filter is not None:
            return self._narrowed  # before validate() filled in the dates
        return any(self[key].data for key in KEYS)

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
        flt = self.to_filter()
        out = {"from": flt.start.isoformat(), "to": flt.end.isoformat()}
        if flt.department_id is not None:
            out["department"] = str(flt.department_id)
        if flt.kind is not None:
            out["kind"] = flt.kind.value
        return out


# "from" is a Python keyword, so the field is set by name (made first, it comes
# first): it is ``form["from"]``, named ``from`` in the query string, and the
# refusals of ``parse_filter`` (``field="from"``) land on it.
setattr(FilterForm, "from", _FROM)  # noqa: B010
