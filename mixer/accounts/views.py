"""Sign-in (password and magic link), sign-out, password reset, profile, tokens."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required

from mixer.accounts import browser, services, sign_ins
from mixer.accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    MagicLinkConfirmForm,
    ProfileForm,
    ResetPasswordForm,
    RevokeTokenForm,
    SignOutForm,
    UnsubscribeForm,
    choice_list,
)
from mixer.errors import DomainError, refusals, show_on_form
from mixer.extensions import csrf, db, limiter
from mixer.mail.preferences import NOTIFICATION_KINDS, notification_label

bp = Blueprint("accounts", __name__)

# Whole sentences, never a translated fragment put into another one.
LINK_SENT = _l(
    "If that address belongs to an account, a sign-in link is on its way. "
    "Check your inbox."
)
RESET_SENT = _l(
    "If that address belongs to an account, a link to choose a new password is "
    "on its way. Check your inbox."
)
# Per address, so nobody can flood someone's inbox from many IPs.
MAIL_LIMIT = "5 per 15 minutes"
POST_LIMIT = "10 per minute"


def _email_key() -> str:
    return "addr:" + (request.form.get("email") or "").strip().lower()


def _asks_for_link() -> bool:
    return request.form.get("action") == "link"


def _status() -> int:
    """200 for a fresh form, 422 for one sent back with errors."""
    return 422 if request.method == "POST" else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT, methods=["POST"])
@limiter.limit(
    MAIL_LIMIT,
    methods=["POST"],
    key_func=_email_key,
    exempt_when=lambda: not _asks_for_link(),
)
def login():
    """Sign in with a password, or ask for a sign-in link by e-mail."""
    action = "link" if _asks_for_link() else "password"
    form = LoginForm(action=action)
    if request.method == "GET":
        form.next.data = services.safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or url_for("main.index"))
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), _status()
    next_url = services.safe_next(form.next.data)
    if action == "link":
        services.send_magic_link(form.email.data, next_url)
        db.session.commit()
        flash(str(LINK_SENT), "info")
        return redirect(url_for("accounts.login", next=next_url))
    user = services.authenticate(form.email.data, form.password.data)
    if user is None:
        form.password.errors.append(
            _(
                "That e-mail and password do not match. Try again, or get a "
                "sign-in link by e-mail."
            )
        )
        return render_template("accounts/login.html", form=form), 422
    services.record_login(user)
    browser.log_in(user, remember=form.remember.data)
    db.session.commit()
    return redirect(next_url or url_for("main.index"))


@bp.post("/logout")
def logout():
    """Sign out (POST only, so a link or image cannot sign anyone out); this
    browser's sign-in ends, so a copy of its cookies stops working too."""
    browser.log_out()
    db.session.commit()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/login/magic/<token>", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT, methods=["POST"])
def magic(token: str):
    """GET shows a confirm button (mail scanners prefetch links); POST signs in."""
    form = MagicLinkConfirmForm()
    if not form.validate_on_submit():
        user = services.check_magic_link(token)
        return render_template("accounts/magic.html", form=form, user=user)
    user, next_url = services.use_magic_link(token)
    browser.log_in(user)
    db.session.commit()
    flash(_("Welcome, %(name)s. You are signed in.", name=user.name), "success")
    return redirect(next_url or url_for("main.index"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT, methods=["POST"])
@limiter.limit(MAIL_LIMIT, methods=["POST"], key_func=_email_key)
def forgot_password():
    """Ask for a password-reset link (never saying whether the address exists)."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/forgot_password.html", form=form), _status()
    services.send_password_reset(form.email.data)
    db.session.commit()
    flash(str(RESET_SENT), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT, methods=["POST"])
def reset_password(token: str):
    """Choose a new password through a reset link; the link then stops working."""
    form = ResetPasswordForm()
    user = services.check_reset_token(token)
    if form.validate_on_submit():
        with refusals(form):
            services.reset_password(token, form.new_password.data)
            browser.log_in(user)  # every other sign-in ended with the old password
            db.session.commit()
            flash(_("Your new password is set and you are signed in."), "success")
            return redirect(url_for("main.index"))
    page = render_template("accounts/reset_password.html", form=form, user=user)
    return page, _status()


def _profile_data(user) -> dict:
    """The profile form's starting values."""
    data = {
        "name": user.name,
        "pronouns": user.pronouns,
        "bio": user.bio,
        "offers": ", ".join(user.offers or []),
        "seeks": ", ".join(user.seeks or []),
        "memberships": [
            {
                "org_id": str(m.org_id),
                "department": m.department.name if m.department else "",
                "level": m.level,
                "mentoring_capacity": str(m.mentoring_capacity),
                "available_from": m.available_from,
            }
            for m in _memberships(user)
        ],
    }
    for kind in NOTIFICATION_KINDS:
        data[f"notify_{kind}"] = user.wants(kind)
    return data


def _memberships(user) -> list:
    return sorted(user.memberships, key=lambda m: m.org.name.lower())


def _token_form(user, fresh: bool = False) -> ApiTokenForm:
    form = ApiTokenForm(formdata=None) if fresh else ApiTokenForm()
    form.org_id.choices = choice_list(
        (m.org_id, m.org.name) for m in _memberships(user)
    )
    return form


def _render_profile(status: int = 200, **forms):
    """The profile page with any bound (failed) forms and fresh others."""
    user = current_user
    forms.setdefault("form", ProfileForm(formdata=None, data=_profile_data(user)))
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("token_form", _token_form(user, fresh=True))
    forms.setdefault(
        "language_form", LanguageForm(formdata=None, locale=user.locale or "")
    )
    by_org = {str(m.org_id): m for m in user.memberships}
    for entry in forms["form"].memberships:
        membership = by_org.get(entry.org_id.data)
        if membership is not None:
            entry.department.render_kw = {"list": f"departments-{membership.org_id}"}
            entry.level.label.text = membership.org.level_label
    page = render_template(
        "accounts/profile.html",
        user=user,
        by_org=by_org,
        tokens=services.list_api_tokens(user),
        revoke_form=RevokeTokenForm(formdata=None),
        sign_ins=sign_ins.active(user),
        current_sign_in=user.current_sign_in,
        sign_out_form=SignOutForm(formdata=None),
        **forms,
    )
    return page, status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """See and edit one's profile, departments, levels, mentoring capacity and
    mail preferences."""
    if request.method == "GET":
        return _render_profile()
    form = ProfileForm()
    if form.validate_on_submit() and _save_profile(form):
        db.session.commit()
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("accounts.profile"))
    db.session.rollback()
    return _render_profile(422, form=form)


def _save_profile(form: ProfileForm) -> bool:
    """Apply a valid profile form; errors go inline and the caller rolls back.

    The form saves to several places (the person, then each membership), and the
    person should see every refusal at once, so each part's refusal is put on its
    own part of the form here rather than ending the save at the first one.
    """
    saves: list[tuple[Callable[[], object], Any]] = [
        (
            lambda: services.update_profile(
                current_user,
                name=form.name.data,
                pronouns=form.pronouns.data,
                bio=form.bio.data,
                offers=form.offers.data,
                seeks=form.seeks.data,
                notifications=form.notifications(),
            ),
            form,
        )
    ]
    by_org = {str(m.org_id): m for m in current_user.memberships}
    for entry in form.memberships:
        membership = by_org.get(entry.org_id.data)
        if membership is None:  # never another person's membership
            continue
        saves.append(
            (
                partial(
                    membership.update_details,
                    entry.department.data,
                    entry.level.data,
                ),
                entry.form,
            )
        )
        saves.append(
            (
                partial(
                    membership.update_mentoring,
                    entry.mentoring_capacity.data,
                    entry.available_from.data,
                ),
                entry.form,
            )
        )
    ok = True
    for save, part in saves:
        try:
            save()
        except DomainError as exc:
            show_on_form(exc, part)
            ok = False
    return ok


@bp.post("/profile/language")
@login_required
def change_language():
    """Choose the language of one's pages and e-mails (or the browser's)."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return _render_profile(422, language_form=form)
    services.set_locale(current_user, form.locale.data)
    db.session.commit()
    refresh()  # the message below is already in the new language
    flash(_("Your language is saved."), "success")
    return redirect(url_for("accounts.profile", _anchor="language"))


@bp.post("/profile/password")
@login_required
def change_password():
    """Change one's password (the current one is asked for when there is one)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with refusals(form):
            remember = _remembered()
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
            # Every sign-in ended, this one too; this browser gets a new one.
            browser.log_in(current_user._get_current_object(), remember=remember)
            db.session.commit()
            flash(
                _(
                    "Your password is changed. Every other browser signed in as "
                    "you is signed out."
                ),
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return _render_profile(422, password_form=form)


@bp.post("/profile/tokens")
@login_required
def create_token():
    """Create an API token and show its secret once."""
    form = _token_form(current_user)
    if not form.validate_on_submit():
        return _render_profile(422, token_form=form)
    membership = next(
        m for m in current_user.memberships if m.org_id == form.org_id.data
    )
    token, secret = services.create_api_token(
        current_user, membership.org, form.name.data
    )
    db.session.commit()
    response = make_response(
        render_template("accounts/token_created.html", token=token, secret=secret)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's own API tokens."""
    token = services.get_user_api_token(current_user, token_id)
    if token is None:
        abort(404)
    if RevokeTokenForm().validate_on_submit():
        services.revoke_api_token(token)
        db.session.commit()
        flash(
            _("The token “%(name)s” is revoked and no longer works.", name=token.name),
            "success",
        )
    return redirect(url_for("accounts.profile", _anchor="api-tokens"))


def _remembered() -> bool:
    """Whether this browser's sign-in was made with "remember me"."""
    sign_in = current_user.current_sign_in
    return bool(sign_in and sign_in.remember)


@bp.post("/profile/sign-ins/<int:sign_in_id>/end")
@login_required
def end_sign_in(sign_in_id: int):
    """Sign one of one's browsers out (this one: an ordinary sign-out)."""
    sign_in = sign_ins.own(current_user, sign_in_id)
    if not SignOutForm().validate_on_submit():
        return redirect(url_for("accounts.profile", _anchor="sign-ins"))
    if sign_in is current_user.current_sign_in:
        return logout()
    sign_ins.revoke(sign_in)
    db.session.commit()
    flash(_("%(device)s is signed out.", device=sign_in.device), "success")
    return redirect(url_for("accounts.profile", _anchor="sign-ins"))


@bp.post("/profile/sign-ins/end-all")
@login_required
def sign_out_everywhere():
    """End every sign-in of this person, in this browser too."""
    if not SignOutForm().validate_on_submit():
        return redirect(url_for("accounts.profile", _anchor="sign-ins"))
    browser.log_out_everywhere()
    db.session.commit()
    flash(_("You are signed out everywhere, here too."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail clients POST without our CSRF token
def unsubscribe(token: str):
    """GET shows what will stop with a button; POST (also one-click) stops it."""
    done = request.method == "POST"
    if done:
        user, kind = services.unsubscribe(token)
        db.session.commit()
        if request.form.get("List-Unsubscribe") == "One-Click":
            return {"status": "unsubscribed", "kind": kind}
    else:
        user, kind = services.read_unsubscribe(token)
    return render_template(
        "accounts/unsubscribe.html",
        form=UnsubscribeForm(),
        user=user,
        label=notification_label(kind),
        done=done,
    )
