"""Recognition: moderated testimonials and the Micro-Mentor of the Month award."""
