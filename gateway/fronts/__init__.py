"""The fronts: the ways a plan file is put in front of an app, and the runnable server.

The ASGI middleware, the reverse proxy (`--upstream`), the demo upstream, the app that
`gw467 serve` runs, and what it needs from the HTTP servers that host it (workers, trailers).
"""
