"""Single sign-on pages: finding one's organization, the sign-in through its
provider and back, and the admins' settings."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from mixer.accounts import browser
from mixer.accounts.services import safe_next
from mixer.errors import refusals
from mixer.extensions import db, limiter
from mixer.orgs.access import org_required
from mixer.sso import services
from mixer.sso.forms import FindOrgForm, SsoSettingsForm
from mixer.urls import absolute_url

bp = Blueprint("sso", __name__)

# The browser's sign-in in progress (state, nonce, PKCE verifier, where to go):
# in the signed session cookie, used once by the callback.
PENDING = "sso_pending"
LIMIT = "30 per minute"


def _callback_url(slug: str) -> str:
    """The redirect URI registered at the provider for this organization."""
    return absolute_url("sso.callback", slug=slug)


@bp.route("/sso", methods=["GET", "POST"])
@limiter.limit(LIMIT, methods=["POST"])
def find():
    """Sign in with one's organization's account: the organization of the page
    asked for, or the one whose e-mail domain matches the address given."""
    form = FindOrgForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    next_url = safe_next(form.next.data)
    matches = []
    if form.validate_on_submit():
        # Shown as buttons, never a redirect: the site's CSP (form-action 'self')
        # stops a form's redirect that ends at another site, the provider.
        matches = services.providers_for_email(form.email.data)
        if not matches:
            domain = form.email.data.rpartition("@")[2]
            form.email.errors.append(
                _(
                    "No organization here signs in addresses at %(domain)s with "
                    "single sign-on. Sign in with your password or an e-mailed "
                    "link instead.",
                    domain=domain,
                )
            )
    page = render_template(
        "sso/find.html",
        form=form,
        offered=services.provider_for_path(next_url),
        matches=matches,
        next_url=next_url,
    )
    return page, 422 if request.method == "POST" and not matches else 200


@bp.get("/o/<slug>/sso/login")
@limiter.limit(LIMIT)
def login(slug: str):
    """Start signing in through the organization's provider."""
    provider = services.provider_in_use(slug)
    next_url = safe_next(request.args.get("next"))
    url, pending = services.start_sign_in(provider, _callback_url(slug), next_url)
    session[PENDING] = pending
    db.session.commit()  # a discovery document read again
    return redirect(url)


@bp.get("/o/<slug>/sso/callback")
@limiter.limit(LIMIT)
def callback(slug: str):
    """The provider's answer: check it, find or make the account and membership,
    and sign the browser in as any other sign-in (a sign-in record)."""
    provider = services.provider_in_use(slug)
    pending = session.pop(PENDING, None)  # once, whatever the answer
    user = services.finish_sign_in(provider, pending, request.args, _callback_url(slug))
    if current_user.is_authenticated:
        browser.log_out()  # whoever was signed in here before ends
    browser.log_in(user, sso=True)
    db.session.commit()
    flash(
        _(
            "Welcome, %(name)s. You are signed in with %(org)s.",
            name=user.name,
            org=provider.org.name,
        ),
        "success",
    )
    return redirect(safe_next(pending.get("next")) or url_for("orgs.home", slug=slug))


def _settings_data(provider) -> dict:
    """The settings form's values from the saved provider (never the secret)."""
    if provider is None:
        return {}
    data = {name: getattr(provider, name) for name in services.SETTINGS}
    data["email_domains"] = ", ".join(provider.email_domains or [])
    return data


@bp.route("/o/<slug>/settings/sso", methods=["GET", "POST"])
@org_required("admin")
def settings():
    """Set up the organization's OpenID Connect provider, check its discovery
    document, switch single sign-on (and passwords) on or off."""
    provider = services.provider_for(g.org)
    if request.method == "GET":
        form = SsoSettingsForm(data=_settings_data(provider))
    else:
        form = SsoSettingsForm()
    refused = refusals(form)
    checked = None
    if request.method == "POST" and request.form.get("action") == "check":
        form.validate()
        for other in form:  # only the issuer matters to a check
            if other.name != "issuer":
                other.errors = []
        if not form.issuer.errors:
            with refused:
                checked = services.check_discovery(form.issuer.data)
    elif form.validate_on_submit():
        with refused:
            values = {name: form[name].data for name in services.SETTINGS}
            provider = services.save_settings(
                g.org, client_secret=form.client_secret.data, **values
            )
            db.session.commit()
            flash(_("The single sign-on settings are saved."), "success")
            if provider.ended_sign_ins:
                flash(
                    ngettext(
                        "%(num)d sign-in made with a password or e-mailed link "
                        "was ended; those members sign in with single sign-on now.",
                        "%(num)d sign-ins made with a password or e-mailed link "
                        "were ended; those members sign in with single sign-on now.",
                        provider.ended_sign_ins,
                    ),
                    "info",
                )
            return redirect(url_for("sso.settings", slug=g.org.slug))
    failed = request.method == "POST" and checked is None
    page = render_template(
        "sso/settings.html",
        form=form,
        provider=provider,
        checked=checked,
        callback_url=_callback_url(g.org.slug),
        login_url=absolute_url("sso.login", slug=g.org.slug),
    )
    return page, refused.status(422) if failed else 200
