"""Time on content: a skill's content modules shown to learners, and their time on each, measured
by heartbeats on the server (db/schema/content.sql; docs/progress.md, "Time on content")."""
