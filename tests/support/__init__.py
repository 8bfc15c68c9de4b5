"""Helpers shared by the tests: grids of sample sheets, a hand-written summary."""
