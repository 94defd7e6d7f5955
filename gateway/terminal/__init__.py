"""How every report prints: the console and its table (rich, the `cli` extra), and a file's own
text made printable (no rich, so that commands on the core alone can use it too)."""
