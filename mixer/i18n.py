"""Languages: which locale a page or an e-mail is in, and Flask-Babel's wiring.

A page is in the person's own language (``User.locale``), else the best match of
the browser's ``Accept-Language`` among ``SUPPORTED``, else the default of the
organization the page is about (``Organization.default_locale``), else English.
An e-mail is in its recipient's language (``recipient_locale``), never the
language of the request that happened to queue it. docs/i18n.md says how to
mark strings and translate an area.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, g, has_request_context, request
from flask.wrappers import Response
from flask_babel import get_locale
from wtforms.validators import StopValidation, ValidationError

from mixer.extensions import babel

DEFAULT_LOCALE = "en"
SUPPORTED = ("en", "de", "ar")
# Each language named in itself (a German speaker looks for "Deutsch"): these
# names are never translated.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "ar": "العربية"}
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our locale selector; ``locale`` and ``text_direction``
    for every template; ``Vary: Accept-Language`` where the browser chose."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(_template_globals)
    app.after_request(_vary_on_language)


def supported(value: str | None) -> str | None:
    """``value`` when it is one of ``SUPPORTED``, else None."""
    return value if value in SUPPORTED else None


def select_locale() -> str:
    """The language of this request: the person's setting, the browser's
    ``Accept-Language``, the organization's default, English, in that order.

    Flask-Babel asks once per request, when something is first translated or
    formatted. Only what the request has already loaded is read: the signed-in
    person (Flask-Login keeps them on ``g`` once the sign-in check ran) and
    ``g.org`` when a view put it there; a deferred ``g.org`` (the API's) is left
    unloaded, so choosing a language never costs a query (the check-in API
    counts its statements).
    """
    if not has_request_context():
        return DEFAULT_LOCALE  # a job or command: force_locale decides
    user = g.__dict__.get("_login_user")
    own = supported(getattr(user, "locale", None))
    if own:
        return own
    browser = request.accept_languages.best_match(SUPPORTED)
    if browser:
        g.locale_from_browser = True
        return str(browser)
    org = g.__dict__.get("org")
    return supported(getattr(org, "default_locale", None)) or DEFAULT_LOCALE


def recipient_locale(user: Any = None, org: Any = None) -> str:
    """The language to write to a person in: their own setting, else the default
    of ``org`` (the organization the mail is about), else of their first
    organization, else English. ``user`` may be None (an address with no account)."""
    own = supported(getattr(user, "locale", None))
    if own:
        return own
    if org is None and user is not None:
        memberships = getattr(user, "memberships", None) or []
        first = min(memberships, key=lambda m: m.id, default=None)
        org = first.org if first is not None else None
    return supported(getattr(org, "default_locale", None)) or DEFAULT_LOCALE


def translated(validator: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """A WTForms validator whose message (a ``lazy_gettext`` string, made at
    import) becomes text in the page's language when it refuses, so a form's
    errors are always ``str`` (code that joins them, JSON) whichever form uses
    it. The validator's flags (``required``, ``maxlength``) are kept."""

    def check(form: Any, field: Any) -> None:
        """Run the validator; give its refusal back as text."""
        try:
            validator(form, field)
        except (StopValidation, ValidationError) as exc:
            if exc.args and exc.args[0]:
                raise type(exc)(str(exc.args[0])) from None
            raise

    check.field_flags = getattr(validator, "field_flags", {})  # type: ignore[attr-defined]
    return check


def current_locale() -> str:
    """The language code in force now (a request's, or ``force_locale``'s)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def text_direction(locale: str | None = None) -> str:
    """``"rtl"`` for a right-to-left language (Arabic), else ``"ltr"``."""
    return Locale.parse(locale or current_locale()).text_direction


def _template_globals() -> dict[str, Any]:
    """``locale`` and ``text_direction`` for every template (pages and mail)."""
    locale = current_locale()
    return {"locale": locale, "text_direction": text_direction(locale)}


def _vary_on_language(response: Response) -> Response:
    """A page chosen by ``Accept-Language`` differs by it: caches must know."""
    if g.get("locale_from_browser"):
        response.vary.add("Accept-Language")
    return response
