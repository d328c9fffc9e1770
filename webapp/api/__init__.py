"""The JSON API for SIEMs and scripts: authenticated by API tokens only."""
