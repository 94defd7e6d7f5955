"""Where a fleet keeps what in its store: the stage, the plan texts, the audit, the workers'
heartbeats, the change channel and the fleet-wide counters (under `GW467_STORE_NAMESPACE`'s
prefix, which the store adds)."""

STAGE_KEY = "gw467:fleet:stage"
PLAN_KEY = "gw467:fleet:plan:"  # + the version's SHA-256
AUDIT_KEY = "gw467:fleet:audit"
WORKER_PREFIX = "gw467:fleet:worker:"  # + the worker's id
CHANNEL = "gw467:fleet:changes"
SLI_KEY = "gw467:fleet:sli:"  # + bucket start; fields "<class>|<1 first-party, 0 not>|t, b or s"
CANARY_KEY = "gw467:fleet:canary:"  # + candidate hash + ":" + bucket start; fields t, b
AUDIT_LIMIT = 1000
