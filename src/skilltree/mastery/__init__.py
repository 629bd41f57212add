"""Mastery that fades and is reviewed: levels of completed skills, scheduled reviews (FSRS)."""
