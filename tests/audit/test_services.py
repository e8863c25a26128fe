"""The trail is append-only for the application; entries go with their
organization; an erased person is forgotten by name (``forget_actor``)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import delete, select

from mixer.accounts.models import User
from mixer.audit import services
from mixer.audit.models import AuditEntry
from mixer.extensions import db
from mixer.orgs.models import Organization

MIXER = Path(__file__).resolve().parents[2] / "mixer"
# A write to the trail: a Core UPDATE/DELETE of the model, a Query's bulk
# update()/delete() on it, SQL naming its table, or deleting an entry object.
WRITES = re.compile(
    r"(?:update|delete)\(\s*AuditEntry\b"
    r"|query\(\s*AuditEntry\b[^\n]*\.(?:update|delete)\("
    r"|(?:UPDATE|DELETE\s+FROM)\s+\"?audit_entry"
    r"|session\.delete\(\s*(?:\w*entry|\w*audit)\w*\s*\)",
    re.IGNORECASE,
)


def test_nothing_in_mixer_updates_or_deletes_an_entry_but_forget_actor():
    found = [
        (str(path.relative_to(MIXER.parent)), match.group(0))
        for path in sorted(MIXER.rglob("*.py"))
        for match in WRITES.finditer(path.read_text())
    ]
    # The one allowed change: erasure replaces an erased person's name.
    assert found == [("mixer/audit/services.py", "update(AuditEntry")]
    source = (MIXER / "audit" / "services.py").read_text()
    forget = source[source.index("def forget_actor") :]
    assert "update(AuditEntry" in forget
    # The pattern itself sees what it must (checked on made-up lines).
    for line in (
        "db.session.execute(delete(AuditEntry).where(x))",
        "db.session.query(AuditEntry).filter_by(id=1).delete()",
        'text("DELETE FROM audit_entry")',
        "db.session.delete(entry)",
    ):
        assert WRITES.search(line), line


def test_entries_go_with_their_org_and_outlive_their_actor(org, make_org, make_user):
    ada = make_user(org, role="admin", name="Ada Lovelace", email="ada@acme.example")
    olga = make_user(org, role="organizer", name="Olga Organizer")
    zed = User(email="zed@example.org", name="Zed Zero")
    db.session.add(zed)
    globex = make_org(slug="globex", name="Globex")
    services.record(org.id, "member.role_changed", "Changed a role", actor=ada)
    services.record(
        org.id, "member.role_changed", "Changed Ada Lovelace's role", actor=olga
    )
    services.record(org.id, "invitation.sent", "Invited ada@acme.example", actor=olga)
    services.record(org.id, "invitation.sent", "Invited Adam Ant", actor=olga)
    services.record(org.id, "account.deactivated", "Deactivated someone", actor=zed)
    services.record(globex.id, "member.removed", "Removed Bo", actor=ada)
    db.session.commit()

    # Erasure forgets Ada's name wherever it was written, and no one else's.
    assert services.forget_actor(ada.id, [ada.name, ada.email, "  "]) == 4
    db.session.commit()
    db.session.expire_all()
    rows = db.session.execute(
        select(AuditEntry.org_id, AuditEntry.actor_name, AuditEntry.summary).order_by(
            AuditEntry.id
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (org.id, "Former member", "Changed a role"),
        (org.id, "Olga Organizer", "Changed a former member's role"),
        (org.id, "Olga Organizer", "Invited a former member"),
        (org.id, "Olga Organizer", "Invited Adam Ant"),
        (org.id, "Zed Zero", "Deactivated someone"),
        (globex.id, "Former member", "Removed Bo"),
    ]
    # The database's own rules: an account's removal leaves its entries, without
    # the id (the name stays as it was then); an organization's takes its own.
    db.session.execute(delete(User).where(User.id == zed.id))
    db.session.execute(delete(Organization).where(Organization.id == globex.id))
    db.session.commit()
    rows = db.session.execute(
        select(AuditEntry.actor_id, AuditEntry.actor_name).where(
            AuditEntry.summary == "Deactivated someone"
        )
    ).all()
    assert [tuple(r) for r in rows] == [(None, "Zed Zero")]
    assert (
        db.session.scalar(select(AuditEntry.id).where(AuditEntry.org_id == globex.id))
        is None
    )
