"""`python -m gateway`: the gw467 command line."""

from gateway.cli.main import main

raise SystemExit(main())
