"""Recording administrative actions (``record``) and reading them back."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from mixer.audit.models import AuditEntry
from mixer.extensions import db

SYSTEM = "Mixer"  # the actor's name when no person acted (jobs, commands)


def record(
    org_id: int | None,
    action: str,
    summary: str,
    *,
    subject: tuple[str, int | None] | None = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditEntry:
    """Add an entry for an action done now (committed with the action).

    ``actor`` defaults to the signed-in person of the request, else Mixer
    itself; ``ip`` is the client's address as the proxy settings make it
    (``MIXER_PROXY_HOPS``). ``subject`` is ("membership", 12) or similar.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()  # type: ignore[attr-defined]
    entry = AuditEntry(
        org_id=org_id,
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.name if actor is not None else SYSTEM)[:120],
        action=action,
        subject_type=subject[0] if subject else None,
        subject_id=subject[1] if subject else None,
        summary=summary[:500],
        details=details or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
