"""Scripts run by hand or by the tests; they build nothing."""
