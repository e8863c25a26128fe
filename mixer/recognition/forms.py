"""Forms of the recognition feature (CSRF-protected; errors shown inline)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from mixer.accounts.forms import choice_list, strip
from mixer.i18n import translated
from mixer.recognition.awards import CITATION_MAX
from mixer.recognition.testimonials import MODERATION_ACTIONS
from mixer.web import ids_in_range


class ModerateForm(FlaskForm):
    """Approve, hide or un-hide one testimonial (the pressed button's value)."""

    action = HiddenField(validators=[AnyOf(list(MODERATION_ACTIONS))])
    # The fingerprint of the words on the page (testimonials.words_key).
    seen = HiddenField()


class DraftForm(FlaskForm):
    """Choose the month's Micro-Mentor and write the citation."""

    # The service checks that the person is one of the month's candidates.
    user_id = RadioField(
        _l("Who gets the award"),
        coerce=int,
        validate_choice=False,
        validators=[
            translated(InputRequired(message=_l("Choose who gets the award."))),
            ids_in_range,
        ],
    )
    citation = TextAreaField(
        _l("Citation"),
        filters=[strip],
        validators=[Length(max=CITATION_MAX)],
        description=_l(
            "One or two sentences for the award page and the certificate. "
            "Leave it empty to start from a suggestion based on what counted."
        ),
    )

    def set_candidates(self, candidates) -> None:
        """The radio buttons: one per candidate shown (``None`` entries skipped).

        Only the shown ones: the page lists the top and one page of the others,
        and the service accepts any candidate of the month, wherever listed.
        """
        self.user_id.choices = choice_list(
            (
                c.user_id,
                ngettext(
                    "%(name)s · %(num)d point",
                    "%(name)s · %(num)d points",
                    c.score,
                    name=c.name,
                ),
            )
            for c in candidates
            if c
        )


class PublishForm(FlaskForm):
    """Confirm the reviewed draft: carries what the organizer saw."""

    user_id = IntegerField(validators=[DataRequired(), ids_in_range])
    citation = HiddenField(validators=[DataRequired(), Length(max=CITATION_MAX)])
