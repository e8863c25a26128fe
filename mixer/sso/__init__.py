"""Single sign-on: each organization may sign its members in through its own
OpenID Connect provider (docs/sso.md)."""
