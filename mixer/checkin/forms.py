"""Forms of the check-in pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length


class CheckinForm(FlaskForm):
    """The organizer's one-tap check-in (or undo) button: only the CSRF token."""


class ConnectionNoteForm(FlaskForm):
    """A private "we talked" note about someone whose badge you scanned."""

    body = TextAreaField(
        "We talked about…",
        validators=[Length(max=2000, message="Keep the note under 2,000 characters.")],
        description="Only you see this note. It helps you follow up later.",
    )
