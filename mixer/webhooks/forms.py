"""Forms of the webhook pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from mixer.accounts.forms import choice_list
from mixer.events.forms import MultiCheckboxField
from mixer.webhooks.models import EVENT_TYPES


class EndpointForm(FlaskForm):
    """An endpoint's address, label and events (the service checks the address)."""

    url = StringField(
        "Address (URL)",
        validators=[DataRequired(), Length(max=500)],
        description="Where Mixer POSTs, e.g. https://hooks.example.org/mixer.",
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    description = StringField("Description", validators=[Optional(), Length(max=200)])
    event_types = MultiCheckboxField(
        "Events to send",
        choices=choice_list(
            (key, f"{key}: {label}") for key, label in EVENT_TYPES.items()
        ),
        validators=[DataRequired(message="Choose at least one event.")],
    )


class EndpointEditForm(EndpointForm):
    """The endpoint form with its on/off switch."""

    enabled = BooleanField("Switched on: deliveries are sent")


class ButtonForm(FlaskForm):
    """A button that carries only its CSRF token (ping, rotate, redeliver, remove)."""
