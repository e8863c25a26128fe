"""Connections: who met whom at an event (rotation rounds, badge scans, "we talked"
notes). Check-in and rotations record them; follow-up reads them."""
