"""Recognition pages: testimonial moderation, Micro-Mentor of the Month, awards.

Everything lives under ``/o/<slug>/`` behind ``org_required``: outsiders get 404.
Moderation and awarding need the organizer role; unpublishing needs an admin.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mixer.accounts.browser import no_store
from mixer.errors import refusals
from mixer.extensions import db
from mixer.orgs.access import org_required
from mixer.orgs.forms import ConfirmForm
from mixer.recognition import awards, scoring, testimonials
from mixer.recognition.forms import DraftForm, ModerateForm, PublishForm
from mixer.recognition.models import TESTIMONIAL_STATUSES, Award, Testimonial
from mixer.web import query_page

bp = Blueprint("recognition", __name__)
PER_PAGE = 25


# ---------------------------------------------------------------------------
# Parts of other features' pages


@bp.app_template_global()
def approved_testimonials(
    org_id: int, event_id: int | None = None, limit: int = 3
) -> list[Testimonial]:
    """Approved testimonials of an organization or of one event (for partials)."""
    return testimonials.approved_testimonials(org_id, event_id, limit)


@bp.app_template_global()
def recognition_summary(org_id: int) -> dict[str, Any]:
    """The latest award and the moderation queue, for the organization's home."""
    latest = awards.published_awards(org_id, limit=1)
    return {
        "award": latest[0] if latest else None,
        "month_label": scoring.month_label(latest[0].month) if latest else "",
        "pending": testimonials.pending_count(org_id),
    }


@bp.app_template_test("taken_back")
def taken_back(testimonial: Testimonial) -> bool:
    """``{% if t is taken_back %}``: the author withdrew these words."""
    return testimonials.taken_back(testimonial)


@bp.app_template_filter("words_key")
def words_key(testimonial: Testimonial) -> str:
    """The fingerprint of a testimonial's words, sent back by the moderation form."""
    return testimonials.words_key(testimonial)


@bp.app_template_filter("month_label")
def month_label(month: str) -> str:
    """ "March 2026" for "2026-03" (in the page's or the e-mail's language)."""
    return scoring.month_label(month)


@bp.app_template_filter("score_line")
def score_line(line: dict[str, Any]) -> str:
    """A line of a published award's breakdown as a sentence, in the reader's
    language (the award keeps the English label and the key)."""
    return scoring.Line(**line).text


# ---------------------------------------------------------------------------
# Testimonials


def _listing() -> dict[str, Any]:
    """The moderation list's filter and page from the query string (checked)."""
    status = request.args.get("status")
    page = query_page()
    return {
        "status": status if status in TESTIMONIAL_STATUSES else None,
        "page": page if page and page > 1 else None,
    }


@bp.get("/o/<slug>/testimonials", endpoint="testimonials")
@org_required("organizer")
def testimonial_list():
    """Moderation: pending first, then approved, then hidden; counts per status."""
    listing = _listing()
    return render_template(
        "recognition/testimonials.html",
        pagination=testimonials.list_testimonials(
            g.org, listing["status"], listing["page"] or 1, PER_PAGE
        ),
        counts=testimonials.testimonial_counts(g.org),
        listing=listing,
        form=ModerateForm(formdata=None),
    )


@bp.post("/o/<slug>/testimonials/<int:testimonial_id>")
@org_required("organizer")
def moderate(testimonial_id: int):
    """Approve, hide or un-hide one testimonial, then back to the same list."""
    testimonial = testimonials.get_testimonial(g.org, testimonial_id)
    if testimonial is None:
        abort(404)
    form = ModerateForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose approve, hide or un-hide."))
    with refusals():
        testimonials.moderate(
            testimonial, form.action.data, current_user, seen=form.seen.data or None
        )
        db.session.commit()
        message = _MODERATED[testimonial.status]
        flash(str(message) % {"name": testimonial.author_name}, "success")
    return redirect(url_for("recognition.testimonials", slug=g.org.slug, **_listing()))


_MODERATED = {
    "approved": _l("The testimonial by %(name)s is approved and now shown to others."),
    "hidden": _l("The testimonial by %(name)s is hidden."),
    "pending": _l("The testimonial by %(name)s is back with the pending ones."),
}


# ---------------------------------------------------------------------------
# Micro-Mentor of the Month (organizers)


def _month(month: str) -> str:
    """``month`` from the address when it is a real "YYYY-MM"; 404 otherwise."""
    return awards.check_month(month)


def _render_recognition(month: str, status: int = 200, **forms: Any):
    """The organizer page for ``month`` (the top, one page of the others or a
    search: ``?page=``, ``?q=``) with any bound (failed) form."""
    bound = forms.get("draft_form")
    page = awards.recognition_page(
        g.org,
        month,
        page=query_page(),
        query=request.args.get("q", ""),
        chosen=bound.user_id.data if bound is not None else None,
    )
    draft_form = bound or DraftForm(
        formdata=None,
        user_id=page["selected"],
        citation=page["award"].citation if page["award"] else "",
    )
    draft_form.set_candidates([*page["top"], *page["more"], page["pinned"]])
    return render_template(
        "recognition/recognition.html",
        **page,
        month_error=forms.get("month_error"),
        draft_form=draft_form,
        publish_form=PublishForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    ), status


@bp.get("/o/<slug>/recognition")
@org_required("organizer")
def recognition():
    """Pick a month; see the ranked candidates and what counted; draft the award."""
    month = request.args.get("month") or awards.default_month()
    problem = awards.month_problem(month)
    if problem is not None:  # said on the month picker, over last month's page
        default = awards.default_month()
        return _render_recognition(default, 422, month_error=problem)
    return _render_recognition(month)


@bp.post("/o/<slug>/recognition/<month>/draft")
@org_required("organizer")
def save_draft(month: str):
    """Save who gets the award and the citation; the page then asks to confirm."""
    month = _month(month)
    form = DraftForm()  # any candidate of the month: the service checks
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            awards.save_draft(
                g.org, month, form.user_id.data, form.citation.data, current_user
            )
            db.session.commit()
            flash(_("Draft saved. Check it below, then publish."), "success")
            return redirect(_page(month, "#review"))
    return _render_recognition(month, refused.status(422), draft_form=form)


@bp.post("/o/<slug>/recognition/<month>/publish")
@org_required("organizer")
def publish(month: str):
    """Publish the reviewed draft: award page, certificate, one e-mail."""
    month = _month(month)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400, description=_("Review the draft again, then publish."))
    with refusals():
        award = awards.publish(
            g.org,
            month,
            current_user,
            user_id=form.user_id.data,
            citation=form.citation.data,
        )
        db.session.commit()
        flash(
            _(
                "Published: %(name)s is the Micro-Mentor of the Month for "
                "%(month)s. We e-mailed them.",
                name=award.user.name,
                month=scoring.month_label(month),
            ),
            "success",
        )
        return redirect(url_for("recognition.award", slug=g.org.slug, month=month))
    return redirect(_page(month, "#review"))


@bp.post("/o/<slug>/recognition/<month>/unpublish")
@org_required("admin")
def unpublish(month: str):
    """Admins only: take a published award back to draft, so it can change."""
    month = _month(month)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form expired; try again."))
    with refusals():
        awards.unpublish(g.org, month, current_user)
        db.session.commit()
        flash(
            _(
                "%(month)s is unpublished: it is a draft again, hidden from members.",
                month=scoring.month_label(month),
            ),
            "success",
        )
    return redirect(_page(month, "#review"))


def _page(month: str, anchor: str = "") -> str:
    """The organizer page of ``month``, optionally at an anchor."""
    return url_for("recognition.recognition", slug=g.org.slug, month=month) + anchor


# ---------------------------------------------------------------------------
# Awards (members)


def _published(month: str) -> Award:
    """The published award of ``month`` in ``g.org``; 404 for drafts and others."""
    award = awards.published_award(g.org, _month(month))
    if award is None:
        abort(404)
    return award


@bp.get("/o/<slug>/awards", endpoint="awards")
@org_required()
def award_list():
    """Every published Micro-Mentor of the Month of the organization."""
    return render_template(
        "recognition/awards.html", awards=awards.published_awards(g.org.id)
    )


@bp.get("/o/<slug>/awards/<month>")
@org_required()
def award(month: str):
    """One month's award: who, why, and the certificate."""
    award = _published(month)
    return render_template(
        "recognition/award.html",
        award=award,
        others=[a for a in awards.published_awards(g.org.id) if a.id != award.id],
    )


@bp.get("/o/<slug>/awards/<month>/certificate.pdf")
@org_required()
@no_store
def certificate(month: str):
    """The certificate as a PDF download."""
    award = _published(month)
    pdf = awards.certificate_pdf(g.org, award)
    return send_file(
        BytesIO(pdf),
        mimetype="application/pdf",
        download_name=f"micro-mentor-{g.org.slug}-{award.month}.pdf",
        as_attachment=False,
        max_age=0,
    )
