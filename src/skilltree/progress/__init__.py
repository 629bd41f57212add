"""Learner progress: enrolment, skill states and transitions, and everything a completion causes."""
