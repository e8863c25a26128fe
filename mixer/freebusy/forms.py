"""The calendar feed form and its buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired

from mixer.i18n import translated


class SecretField(StringField):
    """A text field that never writes its value back into the page: the address
    is a secret, and a page (even one's own, refused) may be seen or cached."""

    def _value(self) -> str:
        return ""


class CalendarFeedForm(FlaskForm):
    """Paste the private iCalendar (ICS) address of one's own calendar."""

    url = SecretField(
        _l("Private iCalendar (ICS) address"),
        validators=[translated(InputRequired(_l("Paste the address.")))],
        description=_l(
            "Your calendar's secret address in iCal format (in Google Calendar: "
            "Settings, your calendar, “Secret address in iCal format”; in Outlook: "
            "Calendar, Shared calendars, Publish a calendar, ICS). Only busy times "
            "are kept, never titles, places or who attends."
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
    )


class ButtonForm(FlaskForm):
    """A button without fields (remove, fetch now): CSRF only."""
