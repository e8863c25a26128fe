"""API endpoints about people (TODO(helper))."""

from mixer.api import blueprint

blp = blueprint("accounts_api", __name__, "People and API tokens.")
