"""Free/busy from a person's own calendar: a private iCalendar feed URL they
paste, fetched by the job worker, kept only as busy intervals.

The modules, lowest first: ``models`` (the feed and its busy intervals),
``fetch`` (one guarded HTTP GET), ``parse`` (ICS to busy intervals), ``feeds``
(save, remove, refresh, what the person reads), ``busy`` (what other features
ask: ``busy_for``, ``overlaps``, ``first_free``, a pair's first slot), ``jobs``
and ``views``. ``docs/freebusy.md`` tells the story.
"""

from __future__ import annotations

from mixer.errors import DomainError


class FreeBusyError(DomainError):
    """A calendar feed address or action that Mixer refuses."""
