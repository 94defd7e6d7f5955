"""The control plane: how a plan file arrives and takes effect, and the endpoints that show it.

A push goes to a `deployment` (local, or a fleet sharing a store); the admin API, SIGHUP reload,
the status page and the nginx check endpoint are served under /_gw467/.
"""
