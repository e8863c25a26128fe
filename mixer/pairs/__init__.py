"""Ongoing mentoring pairs: introductions, cadence and recurring invites, meetings
("check-ins" to the people in them) with reminders and "did you meet?", nudges,
end of term with feedback and renewal, and pairs asked for on a topic without an
event.

The modules, lowest first: ``models`` (the records and their rules), ``display``
(text for people), ``links`` (signed e-mailed links: make and read),
``notifications`` (the e-mails), ``schedule`` (the pair's clock), ``lifecycle``
(create, pause, resume, close, rhythm, feedback and renewal), ``answers`` (what
the two say about a meeting or "pause or close?"), ``queries`` (lists and the
organizers' overview). ``docs/pairs.md`` tells the story.
"""

from __future__ import annotations

from mixer.errors import DomainError


class PairError(DomainError):
    """A request about a pair that cannot be honoured; the message is for people."""
