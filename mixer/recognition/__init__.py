"""Recognition: moderated testimonials and the Micro-Mentor of the Month award.

``testimonials`` (words people agreed to publish, and their moderation),
``scoring`` (who mentored most in a month, and why), ``awards`` (drafting and
publishing the month's award, its certificate and the monthly reminder).
"""

from __future__ import annotations

from mixer.errors import DomainError


class RecognitionError(DomainError):
    """A recognition request that cannot be met; the message is for people.

    A refusal is a 422 unless it says otherwise (409 when the state of things,
    not the input, refuses it).
    """

    status = 422
