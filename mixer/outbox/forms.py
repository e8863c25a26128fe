"""Forms of the outbox page: buttons that only carry their CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    """A "retry now" button (for one message, all failed ones or a job)."""
