"""Gamification: XP levels, daily streaks, achievements."""
