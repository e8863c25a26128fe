"""Forms of the rotations pages. Syntax is checked here; the rules live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from mixer.accounts.forms import choice_list, strip
from mixer.rotations.models import DEFAULT_LOOKBACK_MONTHS, PairingMode
from mixer.rotations.services import Settings

MODE_CHOICES = choice_list(
    [
        (PairingMode.MENTOR_MENTEE, _l("Mentor with mentee (each table has both)")),
        (PairingMode.PEER, _l("Peers (anyone with anyone)")),
    ]
)
GROUP_CHOICES = choice_list([("2", _l("Pairs")), ("3", _l("Groups of three"))])
LOOKBACK_CHOICES = choice_list(
    [
        ("3", _l("Met in the last 3 months")),
        ("6", _l("Met in the last 6 months")),
        ("12", _l("Met in the last 12 months")),
        ("24", _l("Met in the last 24 months")),
        ("any", _l("Met at any earlier event")),
        ("0", _l("Nobody (don't look back)")),
    ]
)
LOCATION_CHOICES = choice_list(
    [
        ("any", _l("Doesn't matter")),
        ("same", _l("Same location at a table (they can meet again in person)")),
        ("different", _l("Different locations at a table (mix the sites)")),
    ]
)


def _lookback(value: object) -> int | None:
    """The look-back choice as months (None: any time)."""
    if value in (None, "any", "None"):
        return None
    return int(value)  # type: ignore[call-overload]


class PlanForm(FlaskForm):
    """The organizer's settings for planning every round."""

    rounds = IntegerField(
        _l("Rounds"), validators=[InputRequired(), NumberRange(min=1, max=50)]
    )
    minutes = IntegerField(
        _l("Minutes per round"),
        validators=[InputRequired(), NumberRange(min=1, max=120)],
    )
    mode = SelectField(
        _l("Pairing"), choices=MODE_CHOICES, default=PairingMode.MENTOR_MENTEE
    )
    group_size = SelectField(
        _l("Table size"), choices=GROUP_CHOICES, default="2", coerce=int
    )
    lookback_months = SelectField(
        _l("Keep apart people who"),
        choices=LOOKBACK_CHOICES,
        default=DEFAULT_LOOKBACK_MONTHS,
        coerce=_lookback,
        description=_l(
            "Earlier meetings at this organization's events: seated together, "
            "badge scans, notes. People in an open pair are kept apart too, and "
            "nobody is seated with their own manager or direct report."
        ),
    )
    location_preference = SelectField(
        _l("Where people work"), choices=LOCATION_CHOICES, default="any"
    )
    seed = IntegerField(
        _l("Seed"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=2**31 - 1)],
        description=_l("Another number gives another plan of the same quality."),
    )
    min_level_gap = IntegerField(
        _l("School mode: mentor at least this many levels above the mentee"),
        validators=[Optional(), NumberRange(min=1, max=20)],
        description=_l("Leave empty unless older students guide younger ones."),
    )

    def settings(self) -> Settings:
        """The settings as the planning service takes them (after validation)."""
        return Settings(
            rounds=self.rounds.data or 0,
            minutes=self.minutes.data or 0,
            mode=self.mode.data or PairingMode.MENTOR_MENTEE,
            group_size=self.group_size.data,
            seed=self.seed.data or 0,
            min_level_gap=self.min_level_gap.data,
            lookback_months=self.lookback_months.data,
            location_preference=self.location_preference.data or "any",
        )


class RoundForm(FlaskForm):
    """Start the next round (carries the round the page showed as current)."""

    expected = HiddenField()


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (re-plan)."""


class LeftForm(FlaskForm):
    """Mark someone as gone, so re-plans leave them out: a list in rooms of up
    to ``LIST_LIMIT`` people, a name or e-mail to look up in bigger ones."""

    LIST_LIMIT = 150

    registration = SelectField(
        _l("Who left"), coerce=int, validators=[Optional()], validate_choice=False
    )
    who = StringField(
        _l("Who left (name or e-mail)"),
        validators=[Optional(), Length(max=254)],
        filters=[strip],
    )


class NoteForm(FlaskForm):
    """A private "we talked" note about someone met in a round."""

    partner = HiddenField(validators=[InputRequired()])
    body = TextAreaField(
        _l("We talked — a note for yourself"), validators=[Length(max=2000)]
    )
