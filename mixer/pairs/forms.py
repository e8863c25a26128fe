"""Forms of the pairs feature (CSRF-protected; errors shown inline)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from mixer.accounts.forms import choice_list
from mixer.i18n import translated
from mixer.pairs.display import ANSWER_LABELS, STANDING_LABELS

NOTE_HELP = _l("Optional; only the two of you see it.")


class CadenceForm(FlaskForm):
    """Either member changes how often and how long they meet."""

    cadence_days = IntegerField(
        _l("Days between check-ins"),
        validators=[
            translated(InputRequired(message=_l("How many days between check-ins?"))),
            translated(NumberRange(1, 92, message=_l("From 1 to 92 days."))),
        ],
        description=_l("14 is every two weeks."),
    )
    meeting_minutes = IntegerField(
        _l("Minutes per check-in"),
        validators=[
            translated(InputRequired(message=_l("How many minutes?"))),
            translated(NumberRange(5, 120, message=_l("From 5 to 120 minutes."))),
        ],
    )


class LogMeetingForm(FlaskForm):
    """A member logs the current meeting from the pair page."""

    status = RadioField(
        _l("This check-in"),
        choices=choice_list([("met", _l("We met")), ("skipped", _l("We skipped it"))]),
        default="met",
        validators=[translated(InputRequired(message=_l("Say whether you met.")))],
    )
    note = TextAreaField(
        _l("What helped?"), validators=[Length(max=1000)], description=NOTE_HELP
    )


class ActionForm(FlaskForm):
    """A button that changes the pair (pause, resume, close): CSRF only."""


class MeetingAnswerForm(FlaskForm):
    """The confirm step of a one-tap "did you meet?" link."""

    answer = RadioField(
        _l("Did you meet?"),
        choices=choice_list((a.value, label) for a, label in ANSWER_LABELS.items()),
        validators=[translated(InputRequired(message=_l("Choose an answer.")))],
    )
    moved_date = DateField(_l("New date"), validators=[Optional()])
    moved_time = TimeField(_l("Time"), validators=[Optional()])
    note = TextAreaField(
        _l("What helped?"), validators=[Length(max=1000)], description=NOTE_HELP
    )

    def validate(self, extra_validators=None) -> bool:
        """A moved meeting needs its new date (Optional() alone would skip it)."""
        valid = super().validate(extra_validators)
        if self.answer.data == "moved" and self.moved_date.data is None:
            if not self.moved_date.errors:
                self.moved_date.errors = [
                    *self.moved_date.errors,
                    _("Say on which day you will meet instead."),
                ]
            return False
        return valid


class NoteForm(FlaskForm):
    """The other person adds their own note to an answered meeting."""

    note = TextAreaField(
        _l("What helped?"),
        validators=[
            translated(InputRequired(message=_l("Write a note, or close this page."))),
            Length(max=1000),
        ],
        description=NOTE_HELP,
    )


class StandingForm(FlaskForm):
    """After three missed meetings: keep going, pause or close."""

    choice = RadioField(
        _l("What would you like to do?"),
        choices=choice_list(STANDING_LABELS.items()),
        validators=[translated(InputRequired(message=_l("Choose an answer.")))],
    )


class FeedbackForm(FlaskForm):
    """End-of-term feedback, a testimonial if they like, and renewal."""

    rating = RadioField(
        _l("How useful were your check-ins?"),
        choices=choice_list((str(n), str(n)) for n in range(1, 6)),
        validators=[Optional()],
        description=_l("1 = not at all, 5 = very."),
    )
    helped = TextAreaField(
        _l("What helped most?"),
        validators=[Length(max=4000)],
        description=_l("Private: the organizers see it only in summaries."),
    )
    testimonial = TextAreaField(
        _l("A few words others may read (optional)"),
        validators=[Length(max=2000)],
        description=_l(
            "Shown on the organization's pages only if you tick the box "
            "below and an organizer approves it."
        ),
    )
    consent = BooleanField(_l("You may publish these words with my name"))
    renew = BooleanField(_l("I would like another term together"))

    def validate_consent(self, field) -> None:
        """Nothing is published without an explicit yes."""
        if (self.testimonial.data or "").strip() and not field.data:
            raise ValidationError(
                _("Tick the box to let us publish your words, or leave them out.")
            )
