"""Forms of single sign-on: an organization's provider settings, and finding
one's organization by e-mail on the sign-in page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional

from mixer.i18n import translated
from mixer.sso.models import CLAIM_MAX, DEFAULT_SCOPES


class SsoSettingsForm(FlaskForm):
    """An organization's OpenID Connect provider; the secret is never shown back
    (a password field renders empty; blank keeps the saved one)."""

    issuer = StringField(
        _l("Issuer URL"),
        validators=[
            translated(InputRequired(_l("Enter the provider's issuer URL."))),
            Length(max=255),
        ],
        description=_l(
            "For example https://login.example.com/realms/staff. Mixer "
            "reads its /.well-known/openid-configuration."
        ),
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    client_id = StringField(
        _l("Client id"),
        validators=[
            translated(InputRequired(_l("Enter the client id."))),
            Length(max=255),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    client_secret = PasswordField(
        _l("Client secret"),
        validators=[Optional(), Length(max=1000)],
        render_kw={"autocomplete": "new-password"},
    )
    scopes = StringField(
        _l("Scopes"),
        default=DEFAULT_SCOPES,
        validators=[Optional(), Length(max=255)],
        description=_l(
            "Space-separated; openid is needed. Add the scope that "
            "carries department or level when your provider has one."
        ),
    )
    claim_name = StringField(
        _l("Name ← claim"), default="name", validators=[Length(max=CLAIM_MAX)]
    )
    claim_email = StringField(
        _l("E-mail ← claim"), default="email", validators=[Length(max=CLAIM_MAX)]
    )
    claim_department = StringField(
        _l("Department ← claim"),
        validators=[Length(max=CLAIM_MAX)],
        description=_l("Blank: departments are not taken from the provider."),
    )
    claim_level = StringField(
        _l("Level ← claim"),
        validators=[Length(max=CLAIM_MAX)],
        description=_l("A whole number 0–80; blank: not taken from the provider."),
    )
    email_domains = StringField(
        _l("E-mail domains"),
        validators=[Length(max=2000)],
        description=_l(
            "People who enter an address at these domains on the sign-in "
            "page are sent to this provider (comma-separated, e.g. acme.com)."
        ),
    )
    enabled = BooleanField(_l("Members can sign in with single sign-on"))
    passwords_off = BooleanField(
        _l("Switch off passwords and e-mailed sign-in links for members"),
        description=_l(
            "Admins keep them, as a way in when the provider fails. Switching "
            "this on signs out the members who signed in another way."
        ),
    )


class FindOrgForm(FlaskForm):
    """An e-mail address, to find the organization that signs it in."""

    email = EmailField(
        _l("Your work e-mail address"),
        validators=[
            translated(InputRequired(_l("Enter your e-mail address."))),
            Email(),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )
    next = HiddenField()
