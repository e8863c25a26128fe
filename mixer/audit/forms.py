"""The audit trail page's filter (a GET form: action, person, days)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from mixer.audit.services import ACTIONS


class AuditFilterForm(FlaskForm):
    """What the audit page lists: ``?action=&actor=&since=&until=``."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    action = SelectField(_l("Action"), choices=[], default="")
    actor = SelectField(_l("Done by"), choices=[], default="")
    since = DateField(_l("From (UTC)"), validators=[Optional()])
    until = DateField(_l("To (UTC)"), validators=[Optional()])

    def __init__(self, *args: Any, actors: list[tuple[int, str]], **kwargs: Any):
        """Offer every action, and the people who acted in the organization."""
        super().__init__(*args, **kwargs)
        self.action.choices = [("", _("All actions"))] + sorted(
            ((key, str(words)) for key, words in ACTIONS.items()),
            key=lambda pair: pair[1],
        )
        self.actor.choices = [("", _("Anyone"))] + [
            (str(actor_id), name) for actor_id, name in actors
        ]

    def validate_until(self, field: DateField) -> None:
        """The range runs forwards."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("This day is before the first day."))

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set."""
        return any(self[key].data for key in ("action", "actor", "since", "until"))

    def criteria(self) -> dict[str, Any]:
        """The filter as ``services.entries`` takes it."""
        until: date | None = self.until.data
        return {
            "action": self.action.data or None,
            "actor": int(self.actor.data) if self.actor.data else None,
            "since": self.since.data,
            "until": until,
        }

    def params(self) -> dict[str, str]:
        """The filter as the query string of a link (only what is set)."""
        return {
            key: str(self[key].data)
            for key in ("action", "actor", "since", "until")
            if self[key].data
        }
