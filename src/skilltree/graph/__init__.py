"""The skill graph: prerequisites at any depth, layers, learning order, critical path."""
