"""Examples of gw467 in front of other people's apps."""
