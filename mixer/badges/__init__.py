"""Badges: printable PDF badges with a QR code for check-in and connections.

``mixer.badges.render.render_badges_pdf`` turns a list of ``BadgeData`` into one PDF
(sheets of eight with cut marks, or one 4×3 in badge per page); ``mixer.badges.qr``
draws the QR codes as vector paths. ``docs/badges.md`` describes both.
"""
