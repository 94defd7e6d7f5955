"""The outage replay: a scenario's hour on a virtual clock, through the real gateway, in process.

`scenario` reads scenario files, `traffic` generates the virtual requests,
`engine` pushes them through EntitlementMiddleware and the demo upstream and
counts the answers, `summary` turns the counts into the figures people quote,
`terminal` and `chart` show them.
"""
