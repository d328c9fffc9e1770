"""Activity at a glance: hourly event counts kept as a roll-up of the log, and the
charts the home page draws from them."""
