"""The audit trail: who did what administrative action, when, and from where.

``record(org_id, action, summary, ...)`` adds one ``AuditEntry`` to the session,
so it is committed with the action it describes or not at all. Entries are
append-only for the application: nothing in Mixer updates or deletes one (a test
scans the code), and an organization's are deleted only with the organization.
Actions are dotted names (``member.role_changed``) listed in ``ACTIONS`` with the
words people read. Low in the layers: every feature records into it, and it
imports none of them (its foreign keys name tables, not models).
"""
