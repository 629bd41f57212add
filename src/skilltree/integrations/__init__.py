"""Integrations: systems that complete skills for learners through signed webhooks (EXTERNAL)."""
