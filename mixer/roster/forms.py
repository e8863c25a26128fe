"""Forms of the check-in lists."""

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
from wtforms.validators import InputRequired, Length, Optional

from mixer.accounts.forms import choice_list
from mixer.i18n import translated
from mixer.roster.models import LIST_NAME_MAX, NOTE_MAX

CADENCE_CHOICES = choice_list(
    [
        ("daily", _l("Every day")),
        ("weekly", _l("Every week")),
    ]
)


class ListForm(FlaskForm):
    """A check-in list's name and cadence."""

    name = StringField(
        _l("Name of the list"),
        description=_l("A class or group, such as “7b” or “My mentees”."),
        validators=[
            translated(InputRequired(_l("Give the list a name, such as a class."))),
            Length(max=LIST_NAME_MAX),
        ],
    )
    cadence = SelectField(_l("Check in with each student"), choices=CADENCE_CHOICES)


class CheckinForm(FlaskForm):
    """One tap: checked in, with an optional private note."""

    note = TextAreaField(
        _l("Private note (only you will see it)"),
        validators=[Optional(), Length(max=NOTE_MAX)],
    )


class AddStudentForm(FlaskForm):
    """Put one member on a list."""

    member = IntegerField(validators=[InputRequired()])


class AddDepartmentForm(FlaskForm):
    """Put a whole class (department) on a list."""

    department = SelectField(_l("Class or department"), coerce=int, choices=[])


class MentorForm(FlaskForm):
    """Name a student mentor (admins), or take it back."""

    member = IntegerField(validators=[InputRequired()])
    on = HiddenField(default="1")
