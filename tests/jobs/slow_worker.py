"""``mixer`` with one more job kind, for tests of the queues with real processes.

``python -m tests.jobs.slow_worker worker [--queues ...]`` is ``mixer worker``
that also knows ``test.queues.sleep``: a heavy job that holds its worker for
``payload["seconds"]``, as a big badge sheet would, without the machine's load
deciding how long. The kind exists only where this module is imported.
"""

from __future__ import annotations

import time
from typing import Any

from mixer.cli import main
from mixer.jobs.services import handler

SLEEP_JOB = "test.queues.sleep"


@handler(SLEEP_JOB, queue="heavy")
def sleep(payload: dict[str, Any]) -> dict[str, float]:
    time.sleep(payload["seconds"])
    return {"slept": payload["seconds"]}


if __name__ == "__main__":
    main()
