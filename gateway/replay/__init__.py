"""The outage replay: a scenario's hour on a virtual clock, through the real gateway, in process.

`scenario` reads scenario files, `traffic` generates the virtual requests (`recorded`: from a
log), `engine` pushes them through EntitlementMiddleware and the demo upstream and counts the
answers, on one gateway or on a ringed fleet (`rings`), under a safety `layers` entry;
`summary` and `compare` turn the counts into the figures people quote; `terminal`, `chart` and
`html` draw them.
"""
