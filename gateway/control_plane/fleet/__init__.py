"""A fleet: gateways that share a store, and run one stage document between them.

- `deployment.FleetDeployment`: the fleet's `Deployment` (push, promote, roll back on the whole
  fleet: a compare-and-set on the store's stage document, an audit record, a published change).
- `worker.FleetWorker`: one worker's part: bring its stage to the store's document, start from its
  last good version, heartbeat.
- `counters.FleetCounters`: the fleet-wide request counts behind the status page, the alert and
  the canary.
- `trust`: what a worker trusts (a stage signed with the fleet secret); `keys`: the store layout.
"""
