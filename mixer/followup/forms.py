"""Forms of the follow-up pages. Syntax here; the rules live in services."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from mixer.accounts.forms import choice_list
from mixer.followup.answers import (
    COMMENT_MAX,
    REFLECTION_MAX,
    TESTIMONIAL_MAX,
    Answers,
)
from mixer.followup.models import CHOICES, NOTE_MAX, FollowupPrompt
from mixer.followup.prompts import (
    CHOICE_LABELS,
    QUESTION,
    RATING_LABELS,
    Person,
    testimonial_of,
)

FIELD_PREFIX = "with_"


def _rating_label(n: int) -> str:
    """A rating's choice as shown: "4 – Very good" in the page's language."""
    return f"{n} – {RATING_LABELS[n]}"


class PromptForm(FlaskForm):
    """The prompt: one choice per person met (added by :func:`prompt_form`), the
    rating, a comment, a testimonial with consent, and the reflection."""

    rating = RadioField(
        _l("How was the event?"),
        # Lazy labels: the class is made at import, before any request.
        choices=choice_list(
            (str(n), LazyString(_rating_label, n)) for n in range(1, 6)
        ),
        validators=[Optional()],
        validate_choice=False,
    )
    comment = TextAreaField(
        _l("Anything the organizers should know? (optional)"),
        validators=[Optional(), Length(max=COMMENT_MAX)],
    )
    reflection = TextAreaField(
        QUESTION, validators=[Optional(), Length(max=REFLECTION_MAX)]
    )
    testimonial = TextAreaField(
        _l("A few words others may read about the event (optional)"),
        validators=[Optional(), Length(max=TESTIMONIAL_MAX)],
    )
    consent = BooleanField(
        _l("You may publish these words with my name once an organizer approves them.")
    )

    people: list[Person] = []

    def validate_rating(self, field: RadioField) -> None:
        """A rating, when given, is a whole number from 1 to 5."""
        if field.data and field.data not in {str(n) for n in RATING_LABELS}:
            raise ValidationError(_("Choose a rating from 1 to 5."))

    def validate_consent(self, field: BooleanField) -> None:
        """Words for others need the author's consent to publish them."""
        if (self.testimonial.data or "").strip() and not field.data:
            raise ValidationError(
                _(
                    "Tick this to let us publish your words, or leave the "
                    "testimonial empty (private thoughts fit in the comment)."
                )
            )

    def choice_fields(self) -> list[tuple[Person, RadioField]]:
        """Each person met with the field holding the attendee's choice."""
        return [(p, self[f"{FIELD_PREFIX}{p.registration.id}"]) for p in self.people]

    def answers(self) -> Answers:
        """The submitted answers as the service takes them."""
        choices = {
            person.registration.id: fld.data
            for person, fld in self.choice_fields()
            if fld.data in CHOICES
        }
        return Answers(
            choices=choices,
            rating=int(self.rating.data) if self.rating.data else None,
            comment=self.comment.data,
            reflection=self.reflection.data,
            testimonial=self.testimonial.data,
            consent=bool(self.consent.data),
        )


def prompt_form(
    prompt: FollowupPrompt, people: list[Person], pick: str | None = None
) -> PromptForm:
    """The prompt form for ``prompt``: filled from its saved answers, with
    ``pick`` ("<registration id>:<choice>", from a one-tap link) preselected."""

    class BoundPromptForm(PromptForm):
        """This prompt's form: a fresh class, so the per-person fields added
        below never leak into another request's form."""

    for person in people:
        setattr(
            BoundPromptForm,
            f"{FIELD_PREFIX}{person.registration.id}",
            RadioField(
                _("Keep in touch with %(name)s?", name=person.registration.name),
                choices=choice_list((c, CHOICE_LABELS[c]) for c in CHOICES),
                validators=[Optional()],
                validate_choice=True,
            ),
        )
    given = testimonial_of(prompt)
    saved = {f"{FIELD_PREFIX}{p.registration.id}": p.choice for p in people}
    form = BoundPromptForm(
        rating=str(prompt.rating) if prompt.rating else None,
        comment=prompt.comment,
        reflection=prompt.reflection,
        testimonial=given.body if given is not None else None,
        consent=given is not None,
        **{k: v for k, v in saved.items() if v},
    )
    form.people = people
    if pick and not form.is_submitted():
        reg_id, _sep, choice = pick.partition(":")
        name = f"{FIELD_PREFIX}{reg_id}"
        if reg_id.isdigit() and choice in CHOICES and name in form:
            form[name].data = choice
    return form


class CloseForm(FlaskForm):
    """Closing an event, confirmed: an optional note for the prompts, and the
    confirmation step's mark (a POST without it shows the confirmation)."""

    note = TextAreaField(
        _l("A note from you in the e-mail (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX)],
    )
    confirm = HiddenField()
