"""Assessments graded by the server: authors' question banks per skill, learners' attempts."""
