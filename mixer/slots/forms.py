"""Forms of the slots feature (CSRF-protected; errors shown inline)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from mixer.i18n import translated
from mixer.slots.services import ABOUT_MAX, OfferValues

WEEKDAYS = [
    (1, _l("Monday")),
    (2, _l("Tuesday")),
    (3, _l("Wednesday")),
    (4, _l("Thursday")),
    (5, _l("Friday")),
    (6, _l("Saturday")),
    (7, _l("Sunday")),
]


class OfferForm(FlaskForm):
    """A host's open slots: weekly or one date, times, where, cap, topics."""

    kind = RadioField(
        _l("Repeats"),
        choices=[
            SelectChoice("weekly", _l("Every week")),
            SelectChoice("once", _l("Once, on a date")),
        ],
        default="weekly",
    )
    weekdays = SelectMultipleField(
        _l("Weekdays"),
        choices=[SelectChoice(day, label) for day, label in WEEKDAYS],
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    on_date = DateField(
        _l("Date"),
        validators=[Optional()],
        description=_l("Only for “Once, on a date”."),
    )
    start_time = TimeField(
        _l("Start time"),
        validators=[translated(InputRequired(_l("Give the first slot's start.")))],
    )
    end_time = TimeField(
        _l("End time"),
        validators=[translated(InputRequired(_l("Give the time the last slot ends.")))],
    )
    slot_minutes = IntegerField(
        _l("Minutes per slot"), default=5, validators=[NumberRange(5, 60)]
    )
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"list": "zones", "autocomplete": "off"},
    )
    place = StringField(
        _l("Where"),
        validators=[Length(max=200)],
        description=_l("A room, a video link or “the café”."),
    )
    weekly_cap = IntegerField(
        _l("At most this many bookings a week (optional)"),
        validators=[Optional(), NumberRange(1, 200)],
    )
    topics = StringField(
        _l("Topics"),
        validators=[Length(max=400)],
        description=_l("Separated by commas; empty: the topics of your profile."),
    )
    active = BooleanField(_l("Open for booking"), default=True)

    def values(self) -> OfferValues:
        """The form's values for the service."""
        return OfferValues(
            kind=self.kind.data,
            weekdays=list(self.weekdays.data or []),
            on_date=self.on_date.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            slot_minutes=self.slot_minutes.data or 5,
            timezone=(self.timezone.data or "").strip(),
            place=self.place.data or "",
            weekly_cap=self.weekly_cap.data,
            topics=(self.topics.data or "").split(","),
            active=bool(self.active.data),
        )


class BookForm(FlaskForm):
    """One tap on a slot (the button's value is its start) and an optional line."""

    offer_id = HiddenField()
    about = StringField(
        _l("What I'd like to talk about (optional)"),
        validators=[Optional(), Length(max=ABOUT_MAX)],
        render_kw={"maxlength": ABOUT_MAX},
    )


class ActionForm(FlaskForm):
    """A button that changes something (cancel, move, answer, keep talking)."""
