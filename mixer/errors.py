"""One way to refuse: ``DomainError`` and the two places it is answered.

A service that cannot do what it was asked raises a :class:`DomainError` (or a
feature's subclass of it) with a message written for people::

    raise EventError(f"Unknown time zone {name!r}.", field="timezone")  # 400
    raise EventError("Registration has closed.", field="event", status=409)

Nothing catches it on the way up. ``mixer.web`` answers it once for the whole
app: the session is rolled back, then an API request (or a client that prefers
JSON) gets ``{"error": {"code", "message", "fields"}}`` with ``exc.status``, and
a page gets the error page (a :class:`LinkError`: the link-problem page).

A page with a form wraps its save in :func:`refusals`, so that a refusal is shown
*on the same page* with everything the person typed::

    form = RegistrationForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            reg = registration.register(event, email=current_user.email, ...)
            db.session.commit()
            return redirect(url_for("events.show", event_id=event.id))
    return _render_show(event, access, refused.status(400), form=form)

The error lands on the form field it names (``field="title"``), or is flashed
when it names none (or one the form does not have), and the view goes on to
render its page. ``docs/development.md`` has more examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from flask import flash
from flask_babel import gettext as _

from mixer.extensions import db

# The error code of each status when the service gives none (the API's ``code``).
CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    410: "gone",
    413: "too_large",
    422: "invalid_input",
    429: "too_many_requests",
}


class DomainError(Exception):
    """A request the domain refuses; ``str(exc)`` is written for people.

    ``field`` names the offending input (a form field, a JSON property); ``status``
    is the HTTP answer: 400 for bad input, 404 for something that does not exist
    (for this person), 409 when the input is fine but the state of things refuses
    it; ``code`` is a stable machine-readable word for API clients.
    """

    status: int = 400
    # False for errors that are a page of their own, not a remark on a form: a
    # 404 or a broken link goes on to the app's handler even inside ``refusals``.
    shown_on_forms = True

    def __init__(
        self,
        message: str,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        if self.status == 404:
            self.shown_on_forms = False
        self.code = code or CODES.get(self.status, "error")
        # Refusals of other fields raised together with this one (FieldProblems).
        self.others: list[DomainError] = []

    @property
    def fields(self) -> dict[str, list[str]]:
        """``{field: [message]}`` for the API's error body (empty without a field)."""
        fields: dict[str, list[str]] = {}
        for exc in (self, *self.others):
            if exc.field:
                fields.setdefault(exc.field, []).append(exc.message)
        return fields

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, field={self.field!r}, "
            f"status={self.status}, code={self.code!r})"
        )


class NotFound(DomainError):
    """Something that does not exist, or not for this person (always 404)."""

    status = 404


class LinkError(DomainError):
    """An e-mailed or printed link that cannot be used.

    ``reason`` is "invalid" (400: mangled or forged), "expired" or "used" (410),
    or "other" (403: someone else's personal link). Pages answer it with the
    link-problem page of the blueprint that owns the link
    (``templates/<blueprint>/link_problem.html``, which extends
    ``errors/link_problem.html``), titled ``title``.
    """

    STATUS = {"invalid": 400, "expired": 410, "used": 410, "other": 403}
    shown_on_forms = False

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        title: str | None = None,
        status: int | None = None,
    ) -> None:
        if reason not in self.STATUS:
            raise ValueError(f"unknown link problem {reason!r}")
        super().__init__(
            message, status=status or self.STATUS[reason], code=f"link_{reason}"
        )
        self.reason = reason
        self.title = title if title is not None else _("This link cannot be used")


class FieldProblems:
    """Gather the refusals of separate fields, to refuse them all at once.

    Each check runs in ``with problems.check():``; a refusal that names a field is
    kept (the first one per field) and the next check runs. ``raise_any()`` then
    raises the first with the others in its ``others``, so a form shows every
    field's problem in one round trip and the API lists them all in ``fields``::

        problems = FieldProblems()
        with problems.check():
            title = check_text(values["title"], "title", 200, "Title", True)
        ...
        problems.raise_any()
    """

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        """Keep a field's refusal raised inside the block; anything else passes."""
        try:
            yield
        except DomainError as exc:
            if not exc.field or not exc.shown_on_forms or exc.status != 400:
                raise
            for one in (exc, *exc.others):
                if not self.failed(one.field):
                    self.errors.append(one)

    def failed(self, *names: str | None) -> bool:
        """Whether any of the fields ``names`` has been refused."""
        return any(exc.field in names for exc in self.errors)

    def raise_any(self) -> None:
        """Raise the first refusal kept, carrying the others; nothing when none."""
        if self.errors:
            first, *rest = self.errors
            first.others = rest
            raise first


class refusals:  # noqa: N801  (used as a statement: ``with refusals(form):``)
    """Show a :class:`DomainError` raised inside the block on ``form``'s page.

    On a refusal the session is rolled back (whatever the block wrote is gone),
    the message goes on the field the error names, or is flashed, and the
    exception is swallowed so the view renders its page again. ``status`` is then
    the error's status (use it for the page: ``refused.status(422)``); a flashed
    message has ``category`` ("warning" for "that one is sent already"). A 404 and
    a :class:`LinkError` are pages of their own and pass through to the app's
    handler, like any other exception; with ``show_missing`` a 404 refusal is
    shown like the others (a button about something not made yet: "no rotations
    have been planned").
    """

    def __init__(
        self, form: Any = None, *, show_missing: bool = False, category: str = "error"
    ) -> None:
        self.form = form
        self.show_missing = show_missing
        self.category = category
        self.error: DomainError | None = None

    def __enter__(self) -> refusals:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if not isinstance(exc, DomainError) or isinstance(exc, LinkError):
            return False
        if not exc.shown_on_forms and not (self.show_missing and exc.status == 404):
            return False
        db.session.rollback()
        self.error = exc
        show_on_form(exc, self.form, self.category)
        return True

    def status(self, default: int = 200) -> int:
        """The refusal's HTTP status, or ``default`` when nothing was refused."""
        return self.error.status if self.error is not None else default


def show_on_form(exc: DomainError, form: Any = None, category: str = "error") -> None:
    """Put ``exc`` (and its ``others``) on the field of ``form`` each names, or
    flash it (``category``)."""
    for one in (exc, *exc.others):
        field = _field(form, one.field)
        if field is not None:
            field.errors = [*field.errors, one.message]
        else:
            flash(one.message, category)


def _field(form: Any, name: str | None) -> Any:
    """The form field called ``name`` (``memberships-0-department`` works too)."""
    if form is None or not name:
        return None
    if name in getattr(form, "_fields", {}):
        return form[name]
    return None
