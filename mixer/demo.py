"""The demo organization behind ``mixer seed-demo`` (TODO(helper))."""


def seed() -> list[tuple[str, str, str]]:
    """Create or refresh the demo data; returns (role, email, password) logins."""
    return []
