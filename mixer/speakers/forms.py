"""Forms of the speakers feature (CSRF-protected; errors shown inline)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from mixer.accounts.forms import choice_list
from mixer.speakers.models import AVAILABILITY_LABELS, VISIBILITY_LABELS
from mixer.web import ids_in_range

VISIBILITY_CHOICES = choice_list(VISIBILITY_LABELS.items())
AVAILABILITY_CHOICES = choice_list(AVAILABILITY_LABELS.items())


class InviteSpeakerForm(FlaskForm):
    """An organizer invites someone to speak, by e-mail."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    session_id = SelectField(_l("Session"), coerce=int)


class AddSpeakerForm(FlaskForm):
    """An organizer makes an existing member a speaker."""

    member = SelectField(
        _l("Member"), coerce=int, validate_choice=False, validators=[ids_in_range]
    )
    session_id = SelectField(_l("Session"), coerce=int)


class RemoveSpeakerForm(FlaskForm):
    """Take a speaker off a session."""

    session_id = HiddenField()
    user_id = HiddenField()


class ProfileForm(FlaskForm):
    """How the speaker is presented on the event page."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    title = StringField(
        _l("Title"),
        validators=[Length(max=120)],
        description=_l("e.g. Head of Data, Acme"),
    )
    bio = TextAreaField(
        _l("Short bio"),
        validators=[Length(max=2000)],
        description=_l("Markdown is fine."),
    )
    links = TextAreaField(
        _l("Links"),
        validators=[Length(max=5000)],
        description=_l("One web address per line (site, LinkedIn, repository)."),
    )


class PhotoForm(FlaskForm):
    """A portrait; resized to 512 px and stripped of metadata."""

    photo = FileField(_l("Photo (JPEG, PNG, GIF or WebP)"))


class SessionForm(FlaskForm):
    """A session's title and abstract."""

    title = StringField(
        _l("Session title"), validators=[DataRequired(), Length(max=200)]
    )
    abstract = TextAreaField(
        _l("Abstract"),
        validators=[Length(max=5000)],
        description=_l("Markdown is fine."),
    )


class UploadForm(FlaskForm):
    """One or several files for a session."""

    files = MultipleFileField(_l("Files"))
    title = StringField(
        _l("Title (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Uploading again with the same title keeps the older versions."),
    )
    session_id = SelectField(_l("Session"), coerce=int)
    visibility = SelectField(_l("Who can see it"), choices=VISIBILITY_CHOICES)
    available = SelectField(_l("When"), choices=AVAILABILITY_CHOICES)


class LinkForm(FlaskForm):
    """A link to slides, a video or a repository."""

    url = URLField(_l("Web address"), validators=[DataRequired(), Length(max=500)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    session_id = SelectField(_l("Session"), coerce=int)
    visibility = SelectField(_l("Who can see it"), choices=VISIBILITY_CHOICES)
    available = SelectField(_l("When"), choices=AVAILABILITY_CHOICES)


class ActionForm(FlaskForm):
    """A button that changes something (delete, hide, accept): CSRF only."""
