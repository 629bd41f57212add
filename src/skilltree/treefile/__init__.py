"""Tree files: import and export whole skill trees as versioned JSON documents."""
