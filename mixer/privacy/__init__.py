"""Data rights and retention: a person's export, erasure, and the organization's
retention of personal details after its events (``docs/privacy.md``).

It reads every feature, so it sits near the top of the layers, beside insights:

- ``export.py``: everything Mixer holds about a person, as ``data.json`` plus
  their files, in one zip.
- ``erasure.py``: a person erases their account (everywhere), or an admin
  erases a member's data in one organization; counts survive, people do not.
- ``retention.py``: the per-organization setting and the daily job that strips
  personal details from registrations, notes and answers of old events.
- ``models.py``: the setting and the per-event "already done" marker.
"""
