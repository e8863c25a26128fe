"""Forms of the events pages. Syntax is checked here; the rules live in
``mixer.events.rules`` (and a refusal lands on the field it names)."""

from __future__ import annotations

from typing import Any

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
from mixer.events.models import KIND_LABELS, MixerRole, Visibility
from mixer.events.rules import (
    DESCRIPTION_MAX,
    DIETARY_CHOICES,
    TITLE_MAX,
    timezone_names,
)
from mixer.urls import MAX_ID
from mixer.web import ids_in_range

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
ROLE_LABELS = {
    MixerRole.MENTOR: "Mentor: I'd like to help someone",
    MixerRole.MENTEE: "Mentee: I'd like someone's help",
    MixerRole.EITHER: "Either: whatever the room needs",
}


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (friendlier than a multi-select)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def when_field(label: str, required: bool = True) -> DateTimeLocalField:
    """A wall-clock date and time input, read in the event's time zone."""
    return DateTimeLocalField(
        label,
        format=DATETIME_FORMATS,
        validators=[InputRequired(message=f"{label} is required.")]
        if required
        else [Optional()],
    )


class EventForm(FlaskForm):
    """Create or edit an event; kind-specific parts are in their own fieldsets."""

    kind = SelectField(
        "Kind of event", choices=choice_list(KIND_LABELS.items()), validate_choice=False
    )
    title = StringField(
        "Title",
        validators=[
            DataRequired(message="Title is required."),
            Length(
                max=TITLE_MAX,
                message=f"Title can have at most {TITLE_MAX} characters.",
            ),
        ],
    )
    description = TextAreaField(
        "Description",
        description="Markdown: **bold**, lists, links.",
        validators=[Length(max=DESCRIPTION_MAX)],
    )
    starts_at = when_field("Starts")
    ends_at = when_field("Ends")
    timezone = SelectField("Time zone", validate_choice=False)
    venue = StringField(
        "Venue", description="Room and building.", validators=[Length(max=200)]
    )
    address = StringField("Address", validators=[Length(max=300)])
    online_url = StringField(
        "Online link",
        description="For online or hybrid events: https://…",
        validators=[Length(max=500)],
    )
    capacity = IntegerField(
        "Capacity",
        description="Seats; past this people join the waitlist.",
        validators=[InputRequired(message="Capacity is required (a whole number).")],
    )
    registration_opens_at = when_field("Registration opens", required=False)
    registration_closes_at = when_field("Registration closes", required=False)
    visibility = RadioField(
        "Who can see it",
        choices=choice_list(
            [
                (Visibility.MEMBERS, "Members of the organization"),
                (
                    Visibility.LINK,
                    "Anyone with the link (guests register with their e-mail)",
                ),
            ]
        ),
        default=Visibility.MEMBERS,
    )
    organizers = MultiCheckboxField(
        "Organizers", coerce=int, validate_choice=False, validators=[ids_in_range]
    )
    # Lunch-and-learn
    topic = StringField("Topic", validators=[Length(max=200)])
    speakers = StringField(
        "Speakers", description="Names, comma-separated.", validators=[Length(max=300)]
    )
    asks_dietary = BooleanField("Ask people about dietary needs (catering)")
    # Workshop
    agenda = TextAreaField(
        "Agenda",
        description="One session per line: 09:30 | Title | Speaker",
        validators=[Length(max=20_000)],
    )
    exercises = TextAreaField(
        "Exercises",
        description="Role-play prompts and tasks shown to attendees (Markdown).",
        validators=[Length(max=DESCRIPTION_MAX)],
    )
    # Mentor Mixer
    rounds = IntegerField("Rounds", validators=[Optional()], default=6)
    minutes_per_round = IntegerField(
        "Minutes per round", validators=[Optional()], default=8
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
        "At the mixer I'd like to be",
        choices=choice_list(ROLE_LABELS.items()),
        default=MixerRole.EITHER,
        validate_choice=False,
    )
    department = StringField("Department", validators=[Length(max=80)])
    offers = StringField(
        "I can help with",
        description="Comma-separated, e.g. negotiation, python",
        validators=[Length(max=1000)],
    )
    seeks = StringField(
        "I'd like help with",
        description="Comma-separated, e.g. public speaking",
        validators=[Length(max=1000)],
    )
    dietary = SelectField(
        "Dietary needs",
        choices=choice_list(
            [("", "None"), *((d, d) for d in DIETARY_CHOICES), ("other", "Other")]
        ),
        validate_choice=False,
    )
    dietary_other = StringField("Other dietary need", validators=[Length(max=120)])

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
        "Your name",
        validators=[
            DataRequired(message="Your name is required."),
            Length(max=120, message="A name can have at most 120 characters."),
        ],
    )
    email = EmailField(
        "Your e-mail",
        validators=[
            DataRequired(message="Your e-mail address is required."),
            Length(max=254),
        ],
    )


class AddAttendeeForm(RegistrationForm):
    """An organizer signs someone up (no confirmation needed)."""

    name = StringField(
        "Name",
        validators=[
            DataRequired(message="A name is required."),
            Length(max=120, message="A name can have at most 120 characters."),
        ],
    )
    email = EmailField(
        "E-mail",
        validators=[DataRequired(message="An e-mail address is required.")],
    )


class MoveForm(FlaskForm):
    """Move someone: into a seat, or to a place on the waitlist."""

    to = SelectField(
        "Move to",
        choices=choice_list([("registered", "A seat"), ("waitlist", "The waitlist")]),
        validate_choice=False,
    )
    position = IntegerField(
        "Waitlist position", validators=[Optional(), NumberRange(max=MAX_ID)]
    )


class CancelEventForm(FlaskForm):
    """Cancel an event; the reason goes into the e-mail everyone gets."""

    reason = TextAreaField(
        "Reason (sent to everyone registered)", validators=[Length(max=500)]
    )


class SeriesForm(FlaskForm):
    """Repeat an event: how often and how many times in all."""

    repeat = RadioField(
        "Repeat",
        choices=choice_list(REPEATS.items()),
        default="monthly_weekday",
        validate_choice=False,
    )
    count = IntegerField(
        "How many events in all (this one included)",
        default=6,
        validators=[InputRequired(message="Give a number from 2 to 52.")],
    )


class DuplicateForm(FlaskForm):
    """Run an event again; empty start means the same weekday next month."""

    starts_at = when_field("New start", required=False)


class ConfirmForm(FlaskForm):
    """A button that needs nothing but the CSRF token."""
