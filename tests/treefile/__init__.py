"""Tree files: import and export."""
