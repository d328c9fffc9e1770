"""Exports of the timeline: downloads from its page and `flask audit export`."""
