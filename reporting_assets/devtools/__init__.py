"""Tools for developing the project (checks the test suite runs, also runnable by hand)."""
