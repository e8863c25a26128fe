"""Ongoing mentoring pairs: introductions, cadence and recurring invites, check-ins
with reminders and "did you meet?", nudges, end of term with feedback and renewal,
and pairs asked for on a topic without an event.
"""
