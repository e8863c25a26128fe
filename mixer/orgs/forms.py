"""Forms for organization settings, members, departments, invitations and import."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from mixer.accounts.forms import choice_list
from mixer.accounts.services import MAX_PASSWORD, MIN_PASSWORD
from mixer.i18n import LANGUAGE_NAMES, SUPPORTED, translated
from mixer.orgs.models import (
    LANGUAGE_MAX,
    LANGUAGES_MAX,
    ORG_KINDS,
    ROLE_LABELS,
    ROLES,
)

ROLE_PAIRS = [(r, ROLE_LABELS[r]) for r in ROLES]
KIND_LABELS = {
    "company": _l("Company"),
    "school": _l("School"),
    "community": _l("Community centre"),
}
LEVEL_RANGE = translated(NumberRange(0, 80, _l("Use a whole number between 0 and 80.")))


class OrgSettingsForm(FlaskForm):
    """An organization's name, kind and mentoring charter."""

    name = StringField(
        _l("Name"),
        validators=[
            translated(InputRequired(_l("A name is needed."))),
            Length(max=120),
        ],
    )
    kind = SelectField(
        _l("Kind"),
        choices=choice_list((k, KIND_LABELS.get(k, k.capitalize())) for k in ORG_KINDS),
    )
    charter = TextAreaField(
        _l("Mentoring charter"),
        validators=[Optional(), Length(max=20_000)],
        description=_l(
            "The commitment your organization makes to mentoring, shown on "
            "its home page. Markdown works: **bold**, lists, [links](https://…)."
        ),
        render_kw={"rows": 12, "dir": "auto"},
    )


class OrgLanguageForm(FlaskForm):
    """The organization's default language (for members whose browser asks for
    none we have, and their mail)."""

    default_locale = SelectField(
        _l("Default language"),
        choices=[
            SelectChoice(
                value=code, label=LANGUAGE_NAMES[code], render_kw={"lang": code}
            )
            for code in SUPPORTED
        ],
        description=_l(
            "Used when a member has not chosen a language and their browser asks "
            "for none of these, and for e-mails to them."
        ),
    )


class InviteForm(FlaskForm):
    """Invite one person by e-mail."""

    email = EmailField(
        _l("E-mail"),
        validators=[
            translated(InputRequired(_l("Enter an e-mail address."))),
            Length(max=254),
        ],
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=choice_list(ROLE_PAIRS), default="member")
    department = StringField(
        _l("Department or group"), validators=[Optional(), Length(max=80)]
    )
    level = IntegerField(_l("Level"), validators=[Optional(), LEVEL_RANGE])


class RoleForm(FlaskForm):
    """Change one member's role."""

    role = SelectField(_l("Role"), choices=choice_list(ROLE_PAIRS))


class MemberForm(FlaskForm):
    """An admin's edit of one member: department, level, role, manager, location
    and languages."""

    department = StringField(
        _l("Department or group"),
        validators=[
            Optional(),
            translated(Length(max=80, message=_l("Use at most 80 characters."))),
        ],
        description=_l("Choose one from the list or type a new name; empty for none."),
        # The datalist offers the existing departments; a new name creates one.
        render_kw={"list": "department-names", "autocomplete": "off"},
    )
    # A text input, not type=number: browsers drop a non-number typed into a
    # number input, so the person would see their entry vanish instead of a
    # message. The label is the organization's own (see ``Organization.level_label``).
    level = StringField(
        _l("Level"),
        validators=[Optional()],
        description=_l("A whole number from 0 to 80; empty for none."),
        render_kw={"inputmode": "numeric"},
    )
    role = SelectField(_l("Role"), choices=choice_list(ROLE_PAIRS))
    # A text field finding the person by e-mail or name (no script needed, and it
    # works for an organization of thousands); small organizations get a datalist.
    manager = StringField(
        _l("Manager"),
        validators=[
            Optional(),
            translated(Length(max=254, message=_l("Use at most 254 characters."))),
        ],
        description=_l("Their e-mail, or a name only one member has; empty for none."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    # Location and languages are checked by the service (``clean_location``,
    # ``clean_languages``), so their refusals show together with the manager's.
    location = StringField(
        _l("Location"),
        validators=[Optional()],
        description=_l("A site, campus or city; empty for none."),
        render_kw={"list": "location-names", "autocomplete": "off"},
    )
    languages = StringField(
        _l("Languages"),
        validators=[Optional()],
        description=_l(
            "Separated by commas, e.g. English, Deutsch; at most %(num)d of at "
            "most %(length)d characters. Kept in lower case.",
            num=LANGUAGES_MAX,
            length=LANGUAGE_MAX,
        ),
    )

    def validate_level(self, field) -> None:
        """A whole number from 0 to 80 (the database checks the same range)."""
        text = (field.data or "").strip()
        if text and not (text.isdigit() and 0 <= int(text) <= 80):
            raise ValidationError(_("Use a whole number between 0 and 80."))


class DepartmentForm(FlaskForm):
    """Add or rename a department."""

    name = StringField(
        _l("Department name"),
        validators=[
            translated(InputRequired(_l("A department needs a name."))),
            Length(max=80),
        ],
    )


class ImportForm(FlaskForm):
    """Upload a CSV of members."""

    file = FileField(
        _l("CSV file"),
        validators=[
            translated(FileRequired(_l("Choose a CSV file."))),
            translated(FileAllowed(["csv", "txt"], _l("Upload a .csv file."))),
        ],
        description=_l(
            "A header row first with name and email; optionally department, "
            "level, manager, location, languages."
        ),
        render_kw={"accept": ".csv,text/csv"},
    )


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (remove, resend, revoke)."""


class AcceptInvitationForm(FlaskForm):
    """Join an organization: a name and, optionally, a password."""

    name = StringField(
        _l("Your name"),
        validators=[
            translated(InputRequired(_l("A name is needed."))),
            Length(max=120),
        ],
        render_kw={"autocomplete": "name"},
    )
    password = PasswordField(
        _l("Password (optional)"),
        validators=[
            Optional(),
            translated(
                Length(
                    min=MIN_PASSWORD,
                    max=MAX_PASSWORD,
                    message=_l(
                        "A password needs at least %(num)d characters.",
                        num=MIN_PASSWORD,
                    ),
                )
            ),
        ],
        description=_l("Without one you sign in with a link we e-mail you."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[translated(EqualTo("password", _l("The two passwords differ.")))],
        render_kw={"autocomplete": "new-password"},
    )
