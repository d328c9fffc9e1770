"""Each user's display preferences (for now: the time zone pages and filters use)."""
