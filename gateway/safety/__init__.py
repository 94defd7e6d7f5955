"""Safety tools over plan changes: lost access (one definition), diff, verify, matrix, explain."""
