"""Writing a `PlanSet` back as plan-file TOML, for tests that generate plan files.

The inverse of `gateway.core.planfile.parse_plan_set`: a dumped set loads back equal.
Keys are written as their SHA-256 digests (a PlanSet holds no raw key).
"""

from __future__ import annotations

from typing import Any

import tomli_w

from gateway.core.planfile import SCHEMA_VERSION
from gateway.core.plans import PlanSet
from gateway.core.refusals import REFUSAL_KINDS, TWITTER_RESPONSES


def dump_plan_set(plan_set: PlanSet) -> str:
    """The plan set as plan-file TOML (keys as SHA-256 digests); loads back to an equal set."""
    document: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "version": plan_set.version,
        "description": plan_set.description,
        "policy": _without_none(
            {
                "exempt": list(plan_set.policy.exempt),
                "default_plan": plan_set.policy.default_plan,
                "cors_preflight": True if plan_set.policy.cors_preflight else None,
                "cors_origins": list(plan_set.policy.cors_origins) or None,
            }
        ),
        "plans": {
            plan.name: _without_none(
                {
                    "tier": plan.tier,
                    "grants": [
                        {"endpoints": list(g.endpoints), "methods": list(g.methods)} for g in plan.grants
                    ],
                    "quota": (
                        {
                            "requests": plan.quota.requests,
                            "window_seconds": plan.quota.window_seconds,
                        }
                        if plan.quota
                        else None
                    ),
                }
            )
            for plan in plan_set.plans
        },
        "endpoints": [
            _without_none(
                {
                    "id": e.id,
                    "method": e.method,
                    "path": e.path,
                    "surface": e.surface,
                    "public": True if e.public else None,
                }
            )
            for e in plan_set.endpoints
        ],
        "clients": {
            c.id: _without_none(
                {
                    "class": c.client_class,
                    "first_party": c.first_party,
                    "key_sha256": c.key_sha256s[0] if len(c.key_sha256s) == 1 else None,
                    "key_sha256s": list(c.key_sha256s) if len(c.key_sha256s) > 1 else None,
                    "plan": c.plan,
                }
            )
            for c in plan_set.clients
        },
    }
    responses = {
        kind: _without_none({"message": refusal.message or None, "code": refusal.code, "body": refusal.body})
        for kind in REFUSAL_KINDS
        if (refusal := getattr(plan_set.responses, kind)) != getattr(TWITTER_RESPONSES, kind)
    }
    if responses:
        document["responses"] = responses
    return tomli_w.dumps(document)


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in table.items() if value is not None}
