"""Speakers: invitations, speaker profiles, session material and its storage."""
