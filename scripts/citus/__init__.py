"""A local Citus cluster for SkillTree (README.md beside this file)."""
