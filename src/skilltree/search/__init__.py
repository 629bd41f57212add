"""Search over skills and trees: ranked full text, typo tolerance, type-ahead."""
