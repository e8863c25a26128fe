"""Who may see what: every org-scoped view goes through ``org_required``.

A person who is not a member of the organization gets 404, never 403, so that
the existence of another tenant's data is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from mixer.extensions import db
from mixer.orgs.models import ROLE_NAMES, Membership, Organization


def membership_for(user, org_id: int) -> Membership | None:
    """The signed-in person's membership in org ``org_id``, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Membership).where(
            Membership.org_id == org_id, Membership.user_id == user.id
        )
    )


def require_membership(org: Organization, role: str = "member") -> Membership:
    """Put ``org`` and the membership on ``g``; 404 for outsiders, 403 for low roles."""
    membership = membership_for(current_user, org.id)
    if membership is None:
        abort(404)
    if not membership.has_role(role):
        name = ROLE_NAMES.get(role, role)
        abort(
            403,
            description=_(
                "This needs the %(role)s role in %(org)s.", role=name, org=org.name
            ),
        )
    g.org = org
    g.membership = membership
    return membership


def org_required(role: str = "member") -> Callable:
    """Decorate a view taking ``slug``: load the org and check the role in it."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, slug: str, **kwargs: Any):
            org = db.session.scalar(
                select(Organization).where(Organization.slug == slug)
            )
            if org is None:
                abort(404)
            require_membership(org, role)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_required = org_required("organizer")
admin_required = org_required("admin")
