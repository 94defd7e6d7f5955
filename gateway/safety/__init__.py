"""Safety tools over plan changes: lost access (one definition), diff, matrix, explain, plan
suites; each report beside the engine that computes it (`diff_report`, `matrix_report`,
`explain_report`, `suite_report`)."""
