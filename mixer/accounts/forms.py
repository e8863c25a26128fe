"""Forms for signing in, resetting passwords, the profile and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
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
from mixer.i18n import LANGUAGE_NAMES, SUPPORTED, translated
from mixer.mail.preferences import NOTIFICATION_KINDS, notification_label


def choice_list(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as the choices WTForms 3.3 wants (no deprecation)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def strip(value: str | None) -> str | None:
    """Trim surrounding spaces, so a name of only spaces counts as empty."""
    return value.strip() if isinstance(value, str) else value


# Validators with our own messages are ``translated``: their lazy message turns
# into text in the page's language when they refuse (mixer.i18n).
EMAIL = [
    translated(InputRequired(_l("Enter your e-mail address."))),
    translated(
        Length(
            max=254,
            message=lazy_ngettext(
                "An e-mail address has at most %(num)d character.",
                "An e-mail address has at most %(num)d characters.",
                254,
            ),
        )
    ),
]


class LoginForm(FlaskForm):
    """E-mail plus either a password or a request for a sign-in link."""

    email = EmailField(
        _l("E-mail"), validators=EMAIL, render_kw={"autocomplete": "email"}
    )
    password = PasswordField(
        _l("Password"),
        # No Optional(): it would stop validate_password from running.
        validators=[Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()

    def __init__(self, *args, action: str = "password", **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action

    def validate_password(self, field) -> None:
        """A password is needed unless the person asked for a link."""
        if self.action == "password" and not field.data:
            raise ValidationError(
                _("Enter your password, or choose “E-mail me a sign-in link”.")
            )


class MagicLinkConfirmForm(FlaskForm):
    """The button that spends a magic link (a GET never does)."""


class ForgotPasswordForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField(
        _l("E-mail"), validators=EMAIL, render_kw={"autocomplete": "email"}
    )


def _new_password_fields():
    new = PasswordField(
        _l("New password"),
        validators=[
            translated(InputRequired(_l("Choose a password."))),
            translated(
                Length(
                    min=MIN_PASSWORD,
                    max=MAX_PASSWORD,
                    message=lazy_ngettext(
                        "A password needs at least %(num)d character.",
                        "A password needs at least %(num)d characters.",
                        MIN_PASSWORD,
                    ),
                )
            ),
        ],
        description=lazy_ngettext(
            "At least %(num)d character. A short sentence works well.",
            "At least %(num)d characters. A short sentence works well.",
            MIN_PASSWORD,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            translated(EqualTo("new_password", _l("The two passwords differ.")))
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return new, confirm


class ResetPasswordForm(FlaskForm):
    """Set a new password through a reset link."""

    new_password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    """Change the password while signed in."""

    current_password = PasswordField(
        _l("Current password"), render_kw={"autocomplete": "current-password"}
    )
    new_password, confirm = _new_password_fields()


class MembershipDetailsForm(Form):
    """Department, level and mentoring availability in one organization (a
    sub-form of the profile)."""

    org_id = HiddenField()
    department = StringField(
        _l("Department or group"),
        validators=[Optional(), Length(max=80)],
        description=_l("Pick one from the list or type a new one."),
    )
    level = IntegerField(
        _l("Level"),
        validators=[
            Optional(),
            translated(
                NumberRange(
                    0,
                    80,
                    _l(
                        "Use a whole number between %(low)d and %(high)d.",
                        low=0,
                        high=80,
                    ),
                )
            ),
        ],
    )
    # Text, not type=number, so a mistyped entry is shown back with a message
    # instead of vanishing; the membership checks the range (0 to 20).
    mentoring_capacity = StringField(
        _l("Mentees and mentoring pairs I take on at most"),
        description=_l(
            "0 means none right now. Suggestions, asks and matching respect it."
        ),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    available_from = DateField(
        _l("Not before"),
        validators=[Optional()],
        description=_l("Empty (or a date already past) means you are available now."),
    )


class ProfileForm(FlaskForm):
    """Everything a person says about themselves, plus mail preferences."""

    name = StringField(
        _l("Name"),
        validators=[translated(DataRequired(_l("A name is needed."))), Length(max=120)],
        filters=[strip],
        render_kw={"autocomplete": "name"},
    )
    pronouns = StringField(
        _l("Pronouns"),
        validators=[Optional(), Length(max=40)],
        description=_l("Optional, e.g. she/her, they/them."),
    )
    bio = TextAreaField(
        _l("About you"),
        validators=[Optional(), Length(max=4000)],
        render_kw={"rows": 4},
    )
    offers = StringField(
        _l("I can help with"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Comma-separated, e.g. public speaking, SQL, career change."),
    )
    seeks = StringField(
        _l("I’d like help with"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Comma-separated."),
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
        _l("Token name"),
        validators=[
            translated(InputRequired(_l("Give the token a name."))),
            Length(max=80),
        ],
        description=_l("What will use it, e.g. “HR sync script”."),
    )
    org_id = SelectField(_l("Organization"), coerce=int, choices=[])


def language_choices() -> list[SelectChoice]:
    """ "Automatic", then each language in its own name (and marked as that
    language, so a screen reader says it right)."""
    automatic = SelectChoice(value="", label=_l("Automatic (your browser)"))
    return [automatic] + [
        SelectChoice(value=code, label=LANGUAGE_NAMES[code], render_kw={"lang": code})
        for code in SUPPORTED
    ]


class LanguageForm(FlaskForm):
    """The person's language: automatic (the browser's) or one we have."""

    locale = SelectField(
        _l("Language"),
        choices=language_choices(),
        description=_l(
            "Automatic follows your browser, then your organization's language. "
            "E-mails to you are in this language too."
        ),
    )


class RevokeTokenForm(FlaskForm):
    """The revoke button of one token."""


class SignOutForm(FlaskForm):
    """The sign-out buttons of the profile's sign-ins."""


class UnsubscribeForm(FlaskForm):
    """The unsubscribe button; the signed link, not a session, authorises it."""

    class Meta:
        csrf = False
