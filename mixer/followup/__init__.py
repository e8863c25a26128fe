"""Follow-up after an event: the prompt asking whom each attendee met and wants to
keep in touch with, the event rating and reflection, and closing an event.

Mutual, compatible choices become pairs (``mixer.pairs``); testimonials given with
consent go to moderation (``mixer.recognition``).
"""
