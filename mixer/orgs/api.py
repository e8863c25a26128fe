"""API endpoints about the organization (TODO(helper))."""

from mixer.api import blueprint

blp = blueprint("orgs_api", __name__, "The organization, its departments and members.")
