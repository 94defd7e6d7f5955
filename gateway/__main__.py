"""`python -m gateway`: the gw467 command line."""

from gateway.cli.launch import main

raise SystemExit(main())
