"""The organization admins' view of delivery: the outbox and failed jobs."""
