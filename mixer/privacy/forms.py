"""The forms of data rights and retention."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from mixer.i18n import translated
from mixer.privacy.models import RETENTION_MONTHS_MAX


class EraseAccountForm(FlaskForm):
    """Erase my account: the password (when there is one) and a clear yes."""

    password = PasswordField(
        _l("Your password"), render_kw={"autocomplete": "current-password"}
    )
    confirm = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[translated(DataRequired(_l("Tick the box to confirm.")))],
    )


class EraseMemberForm(FlaskForm):
    """An admin erases a member's data in the organization: a clear yes."""

    confirm = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[translated(DataRequired(_l("Tick the box to confirm.")))],
    )


class RetentionForm(FlaskForm):
    """How many months after an event its personal details are kept."""

    months = IntegerField(
        _l("Remove personal details this many months after an event"),
        validators=[
            translated(InputRequired(_l("Enter a number of months (0 keeps them)."))),
            translated(
                NumberRange(
                    0,
                    RETENTION_MONTHS_MAX,
                    _l(
                        "Use a whole number of months from 0 (keep) to %(num)d.",
                        num=RETENTION_MONTHS_MAX,
                    ),
                )
            ),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": RETENTION_MONTHS_MAX},
    )
