"""Single sign-on's answers to the signals of lower features."""

from __future__ import annotations

from typing import Any

from mixer import signals
from mixer.accounts.models import User
from mixer.sso import services


@signals.password_sign_in.connect
def _passwords_off(user: User, **_: Any) -> tuple[str, str] | None:
    """Refuse passwords and e-mailed links to members of an organization that
    signs its members in through its provider (admins excepted)."""
    return services.passwords_refused(user)
