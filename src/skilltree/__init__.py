"""SkillTree: a skill-tree learning engine on PostgreSQL."""

__version__ = "0.1.0"
