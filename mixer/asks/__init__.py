"""Ask for a micro-mentor on a topic, without an event: suggestions, asks, answers."""
