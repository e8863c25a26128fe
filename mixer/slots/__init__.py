"""Five-minute slots: open times a member offers for a quick conversation on the
topics they offer, booked with one tap (docs/slots.md)."""

from mixer.errors import DomainError


class SlotError(DomainError):
    """A slot that cannot be offered, booked, moved or answered."""
