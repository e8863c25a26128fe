"""Every feature's models module, imported so the metadata (and Alembic) sees them all.

A new feature adds one line here.
"""

import mixer.accounts.models
import mixer.checkin.models
import mixer.events.models
import mixer.jobs.models
import mixer.mail.models
import mixer.mixers.models
import mixer.orgs.models
import mixer.speakers.models  # noqa: F401
