"""Running SkillTree: health and readiness, GET /metrics, background jobs' records, and
`skilltree db doctor` (docs/operations.md)."""
