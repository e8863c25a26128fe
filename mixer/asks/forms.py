"""Forms of the asks feature (CSRF-protected; errors shown inline)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from mixer.asks.services import CHOICES, MAX_PICKS, NOTE_MAX, TOPIC_MAX
from mixer.i18n import translated
from mixer.web import ids_in_range


class AskForm(FlaskForm):
    """A member asks for a micro-mentor on a topic."""

    topic = StringField(
        _l("Topic"),
        validators=[
            translated(DataRequired(_l("Name the topic in a word or two."))),
            Length(max=TOPIC_MAX),
        ],
        description=_l(
            "What you would like help with, e.g. public speaking. "
            "Suggestions come from what people here offer."
        ),
        render_kw={
            "list": "offered-topics",
            "autocomplete": "off",
            "maxlength": TOPIC_MAX,
        },
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        description=_l(
            "A sentence of context for the people you ask: "
            "where you are and what would help."
        ),
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )


class PickForm(FlaskForm):
    """The person asking picks up to three suggested people to ask."""

    people = SelectMultipleField(
        _l("Whom to ask (up to %(num)d)", num=MAX_PICKS),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service checks each pick against the ranking
        validators=[ids_in_range],
    )


class TopicForm(FlaskForm):
    """Change an ask's topic to a nearby one before anyone was asked."""

    topic = HiddenField(validators=[DataRequired()])


class AnswerForm(FlaskForm):
    """Accept or decline an ask: the button pressed (name "choice") says which."""

    choice = StringField(
        validators=[translated(AnyOf(CHOICES, _l("Choose accept or decline.")))]
    )


class ActionForm(FlaskForm):
    """A button that changes something (withdraw, refresh, tell organizers)."""
