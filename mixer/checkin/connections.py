"""TEMPORARY alias (issue 11): connections moved to ``mixer.connections``.

Follow-up still imports this path; once its imports say ``mixer.connections``,
delete this module (and the re-export at the end of ``mixer.checkin.models``).
"""

from mixer.connections.services import (  # noqa: F401
    connect,
    connections_of,
    note_of,
    save_note,
)
