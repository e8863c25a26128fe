"""Forms of the webhook pages."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from mixer.accounts.forms import choice_list
from mixer.events.forms import MultiCheckboxField
from mixer.i18n import translated
from mixer.webhooks.models import EVENT_TYPES


def _type_label(key: str, label: Any) -> str:
    """An event type's checkbox label: its name, then its words (translated)."""
    return f"{key}: {label}"


class EndpointForm(FlaskForm):
    """An endpoint's address, label and events (the service checks the address)."""

    url = StringField(
        _l("Address (URL)"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Where Mixer POSTs, e.g. https://hooks.example.org/mixer."),
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    description = StringField(
        _l("Description"), validators=[Optional(), Length(max=200)]
    )
    event_types = MultiCheckboxField(
        _l("Events to send"),
        choices=choice_list(
            (key, LazyString(_type_label, key, label))
            for key, label in EVENT_TYPES.items()
        ),
        validators=[translated(DataRequired(message=_l("Choose at least one event.")))],
    )


class EndpointEditForm(EndpointForm):
    """The endpoint form with its on/off switch."""

    enabled = BooleanField(_l("Switched on: deliveries are sent"))


class ButtonForm(FlaskForm):
    """A button that carries only its CSRF token (ping, rotate, redeliver, remove)."""
