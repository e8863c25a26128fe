"""Forms of the events pages. Syntax is checked here; the rules live in
``mixer.events.rules`` (and a refusal lands on the field it names)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from mixer.accounts.forms import choice_list
from mixer.events.lifecycle import REPEATS
from mixer.events.models import KIND_LABELS, MixerRole, RegistrationStatus, Visibility
from mixer.events.rules import (
    DESCRIPTION_MAX,
    DIETARY_CHOICES,
    TITLE_MAX,
    timezone_names,
)
from mixer.i18n import translated
from mixer.urls import MAX_ID
from mixer.web import ids_in_range

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
ROLE_LABELS = {
    MixerRole.MENTOR: _l("Mentor: I'd like to help someone"),
    MixerRole.MENTEE: _l("Mentee: I'd like someone's help"),
    MixerRole.EITHER: _l("Either: whatever the room needs"),
}
# A role in a table or a count (attendees, dashboard).
ROLE_NAMES: dict[str, Any] = {  # MixerRole (a str) → its words
    MixerRole.MENTOR: _l("mentor"),
    MixerRole.MENTEE: _l("mentee"),
    MixerRole.EITHER: _l("either"),
}
# The stored dietary choices (English values) as people read them; a need typed
# under "Other" is shown as typed.
DIETARY_LABELS = {
    "Vegetarian": _l("Vegetarian"),
    "Vegan": _l("Vegan"),
    "Gluten-free": _l("Gluten-free"),
    "Dairy-free": _l("Dairy-free"),
    "Halal": _l("Halal"),
    "Kosher": _l("Kosher"),
    "Nut allergy": _l("Nut allergy"),
}
# A registration's status as a word in a table ("registered #2").
STATUS_NAMES: dict[str, Any] = {  # RegistrationStatus (a str) → its words
    RegistrationStatus.REGISTERED: _l("registered"),
    RegistrationStatus.WAITLISTED: _l("waitlisted"),
    RegistrationStatus.PENDING: _l("pending"),
    RegistrationStatus.CANCELLED: _l("cancelled"),
}


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (friendlier than a multi-select)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def when_field(label: Any, required: Any = None) -> DateTimeLocalField:
    """A wall-clock date and time input, read in the event's time zone;
    ``required`` is the message when it must be given (None: optional)."""
    return DateTimeLocalField(
        label,
        format=DATETIME_FORMATS,
        validators=[translated(InputRequired(message=required))]
        if required
        else [Optional()],
    )


class EventForm(FlaskForm):
    """Create or edit an event; kind-specific parts are in their own fieldsets."""

    kind = SelectField(
        _l("Kind of event"),
        choices=choice_list(KIND_LABELS.items()),
        validate_choice=False,
    )
    title = StringField(
        _l("Title"),
        validators=[
            translated(DataRequired(message=_l("Title is required."))),
            translated(
                Length(
                    max=TITLE_MAX,
                    message=lazy_ngettext(
                        "Title can have at most %(num)d character.",
                        "Title can have at most %(num)d characters.",
                        TITLE_MAX,
                    ),
                )
            ),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        description=_l("Markdown: **bold**, lists, links."),
        validators=[Length(max=DESCRIPTION_MAX)],
    )
    starts_at = when_field(_l("Starts"), _l("Starts is required."))
    ends_at = when_field(_l("Ends"), _l("Ends is required."))
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    venue = StringField(
        _l("Venue"), description=_l("Room and building."), validators=[Length(max=200)]
    )
    address = StringField(_l("Address"), validators=[Length(max=300)])
    online_url = StringField(
        _l("Online link"),
        description=_l("For online or hybrid events: https://…"),
        validators=[Length(max=500)],
    )
    capacity = IntegerField(
        _l("Capacity"),
        description=_l("Seats; past this people join the waitlist."),
        validators=[
            translated(
                InputRequired(message=_l("Capacity is required (a whole number)."))
            )
        ],
    )
    registration_opens_at = when_field(_l("Registration opens"))
    registration_closes_at = when_field(_l("Registration closes"))
    visibility = RadioField(
        _l("Who can see it"),
        choices=choice_list(
            [
                (Visibility.MEMBERS, _l("Members of the organization")),
                (
                    Visibility.LINK,
                    _l("Anyone with the link (guests register with their e-mail)"),
                ),
            ]
        ),
        default=Visibility.MEMBERS,
    )
    organizers = MultiCheckboxField(
        _l("Organizers"), coerce=int, validate_choice=False, validators=[ids_in_range]
    )
    # Lunch-and-learn
    topic = StringField(_l("Topic"), validators=[Length(max=200)])
    speakers = StringField(
        _l("Speakers"),
        description=_l("Names, comma-separated."),
        validators=[Length(max=300)],
    )
    asks_dietary = BooleanField(_l("Ask people about dietary needs (catering)"))
    # Workshop
    agenda = TextAreaField(
        _l("Agenda"),
        description=_l("One session per line: 09:30 | Title | Speaker"),
        validators=[Length(max=20_000)],
    )
    exercises = TextAreaField(
        _l("Exercises"),
        description=_l("Role-play prompts and tasks shown to attendees (Markdown)."),
        validators=[Length(max=DESCRIPTION_MAX)],
    )
    # Mentor Mixer
    rounds = IntegerField(_l("Rounds"), validators=[Optional()], default=6)
    minutes_per_round = IntegerField(
        _l("Minutes per round"), validators=[Optional()], default=8
    )

    def __init__(self, *args: Any, organizer_choices=(), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.timezone.choices = choice_list((z, z) for z in timezone_names())
        self.organizers.choices = choice_list(organizer_choices)

    def values(self) -> dict[str, Any]:
        """The editable fields for ``create_event`` / ``update_event``."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "timezone": self.timezone.data,
            "venue": self.venue.data,
            "address": self.address.data,
            "online_url": self.online_url.data,
            "capacity": self.capacity.data,
            "registration_opens_at": self.registration_opens_at.data,
            "registration_closes_at": self.registration_closes_at.data,
            "visibility": self.visibility.data,
            "topic": self.topic.data,
            "speakers": self.speakers.data,
            "asks_dietary": self.asks_dietary.data,
            "exercises": self.exercises.data,
            "rounds": self.rounds.data,
            "minutes_per_round": self.minutes_per_round.data,
        }


class RegistrationForm(FlaskForm):
    """A member's one-click registration; the answers start from their profile."""

    role = RadioField(
        _l("At the mixer I'd like to be"),
        choices=choice_list(ROLE_LABELS.items()),
        default=MixerRole.EITHER,
        validate_choice=False,
    )
    department = StringField(_l("Department"), validators=[Length(max=80)])
    offers = StringField(
        _l("I can help with"),
        description=_l("Comma-separated, e.g. negotiation, python"),
        validators=[Length(max=1000)],
    )
    seeks = StringField(
        _l("I'd like help with"),
        description=_l("Comma-separated, e.g. public speaking"),
        validators=[Length(max=1000)],
    )
    dietary = SelectField(
        _l("Dietary needs"),
        choices=choice_list(
            [
                ("", _l("None")),
                *((d, DIETARY_LABELS[d]) for d in DIETARY_CHOICES),
                ("other", _l("Other")),
            ]
        ),
        validate_choice=False,
    )
    dietary_other = StringField(_l("Other dietary need"), validators=[Length(max=120)])

    def answers(self) -> dict[str, Any]:
        """The answers for ``register``."""
        dietary = self.dietary.data or None
        if dietary == "other":
            dietary = (self.dietary_other.data or "").strip() or None
        return {
            "role": self.role.data or None,
            "department": self.department.data,
            "offers": self.offers.data or "",
            "seeks": self.seeks.data or "",
            "dietary": dietary,
        }


class GuestRegistrationForm(RegistrationForm):
    """Register without an account; the place is held once the e-mail is confirmed."""

    name = StringField(
        _l("Your name"),
        validators=[
            translated(DataRequired(message=_l("Your name is required."))),
            translated(
                Length(
                    max=120,
                    message=lazy_ngettext(
                        "A name can have at most %(num)d character.",
                        "A name can have at most %(num)d characters.",
                        120,
                    ),
                )
            ),
        ],
    )
    email = EmailField(
        _l("Your e-mail"),
        validators=[
            translated(DataRequired(message=_l("Your e-mail address is required."))),
            Length(max=254),
        ],
    )


class AddAttendeeForm(RegistrationForm):
    """An organizer signs someone up (no confirmation needed)."""

    name = StringField(
        _l("Name"),
        validators=[
            translated(DataRequired(message=_l("A name is required."))),
            translated(
                Length(
                    max=120,
                    message=lazy_ngettext(
                        "A name can have at most %(num)d character.",
                        "A name can have at most %(num)d characters.",
                        120,
                    ),
                )
            ),
        ],
    )
    email = EmailField(
        _l("E-mail"),
        validators=[
            translated(DataRequired(message=_l("An e-mail address is required.")))
        ],
    )


class MoveForm(FlaskForm):
    """Move someone: into a seat, or to a place on the waitlist."""

    to = SelectField(
        _l("Move to"),
        choices=choice_list(
            [("registered", _l("A seat")), ("waitlist", _l("The waitlist"))]
        ),
        validate_choice=False,
    )
    position = IntegerField(
        _l("Waitlist position"), validators=[Optional(), NumberRange(max=MAX_ID)]
    )


class CancelEventForm(FlaskForm):
    """Cancel an event; the reason goes into the e-mail everyone gets."""

    reason = TextAreaField(
        _l("Reason (sent to everyone registered)"), validators=[Length(max=500)]
    )


class SeriesForm(FlaskForm):
    """Repeat an event: how often and how many times in all."""

    repeat = RadioField(
        _l("Repeat"),
        choices=choice_list(REPEATS.items()),
        default="monthly_weekday",
        validate_choice=False,
    )
    count = IntegerField(
        _l("How many events in all (this one included)"),
        default=6,
        validators=[
            translated(InputRequired(message=_l("Give a number from 2 to 52.")))
        ],
    )


class DuplicateForm(FlaskForm):
    """Run an event again; empty start means the same weekday next month."""

    starts_at = when_field(_l("New start"))


class ConfirmForm(FlaskForm):
    """A button that needs nothing but the CSRF token."""
