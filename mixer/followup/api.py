"""API endpoints of the followup feature."""

from __future__ import annotations

from mixer.api import blueprint

blp = blueprint("followup_api", __name__, "Followup.")
