"""Filter-effectiveness tests: plans, the probing runner and their records."""
