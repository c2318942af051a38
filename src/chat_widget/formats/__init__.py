"""Pure data shapes shared by every part: transcript entries, parties, thresholds."""
