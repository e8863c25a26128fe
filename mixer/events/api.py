"""Events API (issue 3; TODO(events helper))."""

from mixer.api import blueprint

blp = blueprint("events_api", __name__, "Events and registrations.")
