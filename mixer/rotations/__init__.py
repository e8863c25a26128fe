"""Mentor Mixers: the rotation planner (who meets whom, round by round)."""
