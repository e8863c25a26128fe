"""Every feature's models module, imported so the metadata (and Alembic) sees them all.

A new feature adds one line here.
"""

import mixer.accounts.models
import mixer.asks.models
import mixer.audit.models
import mixer.charter.models
import mixer.checkin.models
import mixer.connections.models
import mixer.events.models
import mixer.followup.models
import mixer.freebusy.models
import mixer.insights.models
import mixer.jobs.models
import mixer.mail.models
import mixer.observability.models
import mixer.orgs.models
import mixer.pairs.models
import mixer.privacy.models
import mixer.recognition.models
import mixer.roster.models
import mixer.rotations.models
import mixer.slots.models
import mixer.speakers.models
import mixer.sso.models
import mixer.tokens.models
import mixer.webhooks.models  # noqa: F401
