"""Forms of the mentoring charter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import Length

from mixer.charter.services import CHARTER_MAX


class CharterForm(FlaskForm):
    """The charter's Markdown, and whether everyone should read it again."""

    charter = TextAreaField(
        _l("Mentoring charter"),
        description=_l(
            "Markdown: **bold**, *italic*, lists, links. Shown on the organization's "
            "home page and to every new member."
        ),
        validators=[Length(max=CHARTER_MAX)],
        render_kw={"rows": 14},
    )
    ask_again = BooleanField(
        _l("I changed it substantially: ask every member to read it again")
    )


class AckForm(FlaskForm):
    """ "I have read it", and the page to go back to."""

    next = HiddenField()
