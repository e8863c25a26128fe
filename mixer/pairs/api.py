"""API endpoints of the pairs feature."""

from __future__ import annotations

from mixer.api import blueprint

blp = blueprint("pairs_api", __name__, "Pairs.")
