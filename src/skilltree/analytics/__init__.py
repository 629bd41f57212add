"""Learning analytics: tree funnels and series for authors, calendars and pace for learners."""
