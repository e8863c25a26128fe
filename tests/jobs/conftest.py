"""Fixtures for job and worker tests: the real SMTP servers of the mail tests."""

from tests.mail.conftest import smtp, smtp_server  # noqa: F401
