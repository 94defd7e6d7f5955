"""The `gw467` command line: one module per command; rendering apart from logic; exit codes once."""
