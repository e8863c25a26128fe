"""E-mail: the outbox table, rendering, delivery (SMTP or files), the admin page."""
