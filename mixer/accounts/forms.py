"""Forms for signing in, resetting passwords, the profile and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from mixer.accounts.services import MAX_PASSWORD, MIN_PASSWORD
from mixer.mail.preferences import NOTIFICATION_KINDS, notification_label


def choice_list(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as the choices WTForms 3.3 wants (no deprecation)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def strip(value: str | None) -> str | None:
    """Trim surrounding spaces, so a name of only spaces counts as empty."""
    return value.strip() if isinstance(value, str) else value


EMAIL = [
    InputRequired("Enter your e-mail address."),
    Length(max=254, message="An e-mail address has at most 254 characters."),
]


class LoginForm(FlaskForm):
    """E-mail plus either a password or a request for a sign-in link."""

    email = EmailField("E-mail", validators=EMAIL, render_kw={"autocomplete": "email"})
    password = PasswordField(
        "Password",
        # No Optional(): it would stop validate_password from running.
        validators=[Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()

    def __init__(self, *args, action: str = "password", **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action

    def validate_password(self, field) -> None:
        """A password is needed unless the person asked for a link."""
        if self.action == "password" and not field.data:
            raise ValidationError(
                "Enter your password, or choose “E-mail me a sign-in link”."
            )


class MagicLinkConfirmForm(FlaskForm):
    """The button that spends a magic link (a GET never does)."""


class ForgotPasswordForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField("E-mail", validators=EMAIL, render_kw={"autocomplete": "email"})


def _new_password_fields():
    new = PasswordField(
        "New password",
        validators=[
            InputRequired("Choose a password."),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=f"A password needs at least {MIN_PASSWORD} characters.",
            ),
        ],
        description=f"At least {MIN_PASSWORD} characters. A short sentence works well.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[EqualTo("new_password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )
    return new, confirm


class ResetPasswordForm(FlaskForm):
    """Set a new password through a reset link."""

    new_password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    """Change the password while signed in."""

    current_password = PasswordField(
        "Current password", render_kw={"autocomplete": "current-password"}
    )
    new_password, confirm = _new_password_fields()


class MembershipDetailsForm(Form):
    """Department, level and mentoring availability in one organization (a
    sub-form of the profile)."""

    org_id = HiddenField()
    department = StringField(
        "Department or group",
        validators=[Optional(), Length(max=80)],
        description="Pick one from the list or type a new one.",
    )
    level = IntegerField(
        "Level",
        validators=[
            Optional(),
            NumberRange(0, 80, "Use a whole number between 0 and 80."),
        ],
    )
    # Text, not type=number, so a mistyped entry is shown back with a message
    # instead of vanishing; the membership checks the range (0 to 20).
    mentoring_capacity = StringField(
        "Mentees and mentoring pairs I take on at most",
        description="0 means none right now. Suggestions, asks and matching "
        "respect it.",
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    available_from = DateField(
        "Not before",
        validators=[Optional()],
        description="Empty (or a date already past) means you are available now.",
    )


class ProfileForm(FlaskForm):
    """Everything a person says about themselves, plus mail preferences."""

    name = StringField(
        "Name",
        validators=[DataRequired("A name is needed."), Length(max=120)],
        filters=[strip],
        render_kw={"autocomplete": "name"},
    )
    pronouns = StringField(
        "Pronouns",
        validators=[Optional(), Length(max=40)],
        description="Optional, e.g. she/her, they/them.",
    )
    bio = TextAreaField(
        "About you", validators=[Optional(), Length(max=4000)], render_kw={"rows": 4}
    )
    offers = StringField(
        "I can help with",
        validators=[Optional(), Length(max=1000)],
        description="Comma-separated, e.g. public speaking, SQL, career change.",
    )
    seeks = StringField(
        "I’d like help with",
        validators=[Optional(), Length(max=1000)],
        description="Comma-separated.",
    )
    memberships = FieldList(FormField(MembershipDetailsForm))

    def notification_fields(self) -> list:
        """The per-kind checkboxes, in the order of ``NOTIFICATION_KINDS``."""
        return [self[f"notify_{kind}"] for kind in NOTIFICATION_KINDS]

    def notifications(self) -> dict[str, bool]:
        """The ticked kinds as the dict ``User.notifications`` holds."""
        return {kind: bool(self[f"notify_{kind}"].data) for kind in NOTIFICATION_KINDS}


for _kind in NOTIFICATION_KINDS:
    setattr(ProfileForm, f"notify_{_kind}", BooleanField(notification_label(_kind)))


class ApiTokenForm(FlaskForm):
    """Create an API token for one of the person's organizations."""

    name = StringField(
        "Token name",
        validators=[InputRequired("Give the token a name."), Length(max=80)],
        description="What will use it, e.g. “HR sync script”.",
    )
    org_id = SelectField("Organization", coerce=int, choices=[])


class RevokeTokenForm(FlaskForm):
    """The revoke button of one token."""


class SignOutForm(FlaskForm):
    """The sign-out buttons of the profile's sign-ins."""


class UnsubscribeForm(FlaskForm):
    """The unsubscribe button; the signed link, not a session, authorises it."""

    class Meta:
        csrf = False
