"""Forms of the check-in pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from mixer.accounts.forms import EMAIL
from mixer.i18n import translated


class CheckinForm(FlaskForm):
    """The organizer's one-tap check-in (or undo) button: only the CSRF token."""


class ConnectionNoteForm(FlaskForm):
    """A private "we talked" note about someone whose badge you scanned."""

    body = TextAreaField(
        _l("We talked about…"),
        validators=[
            translated(
                Length(max=2000, message=_l("Keep the note under 2,000 characters."))
            )
        ],
        description=_l("Only you see this note. It helps you follow up later."),
    )


class BadgeSignInForm(FlaskForm):
    """A signed-out visitor of a badge asks for a sign-in link back to it."""

    email = EmailField(
        _l("Your e-mail address"),
        validators=EMAIL,
        render_kw={"autocomplete": "email"},
        description=_l("The one you registered for this event with."),
    )


class DoorHelperForm(FlaskForm):
    """Make a member of the organization a door helper of the event."""

    user_id = SelectField(_l("Member"), coerce=int, validate_choice=False)


class DoorLinkForm(FlaskForm):
    """A new door link, named for the place or the volunteer holding the phone."""

    label = StringField(
        _l("Name of the link"),
        default=_l("Front desk"),
        validators=[
            translated(DataRequired(_l("Give the link a name, e.g. Front desk."))),
            translated(Length(max=60, message=_l("At most 60 characters."))),
        ],
    )
