"""Scheduled jobs, the claim/lease queue they share with the outbox, and the worker."""
