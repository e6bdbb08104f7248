"""Fixtures that start the real components integration tests talk to."""
