"""A FastAPI app guarded by gw467: catalogue, plan file, test suite, property test, CI gate."""
