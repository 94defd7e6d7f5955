"""Reusable property-testing kit: Hypothesis strategies, invariant checks and properties for plan files.

Import it in your own test suite (needs the `test` extra: hypothesis):
`from gateway.verification import no_first_party_regression, rekeyed`. `gw467 verify OLD NEW`
runs every property on two plan files from the command line.
"""

from gateway.safety.access import AccessChange, first_party_losses
from gateway.verification.invariants import TierViolation, tier_violations
from gateway.verification.properties import (
    compiled_matches_reference,
    decisions_ignore_headers_and_other_requests,
    encodings_decide_as_canonical,
    exemption_ignores_headers,
    no_first_party_regression,
    recording_gateway,
    tiers_are_monotone,
)
from gateway.verification.strategies import (
    ENCODING_VARIANTS,
    REFUSED_VARIANTS,
    SPOOFING_HEADER_NAMES,
    KeyedPlanSet,
    authorization_headers,
    config_changes,
    encoded_template_paths,
    encoding_variants,
    endpoint_catalogues,
    filled_path,
    generated_catalogue_path,
    keyed_plan_sets,
    path_templates,
    rekeyed,
    reordered_headers,
    requests,
    sibling_templates,
    spoofing_headers,
    template_paths,
)
from gateway.verification.upstream import RecordingUpstream

__all__ = [
    "ENCODING_VARIANTS",
    "REFUSED_VARIANTS",
    "SPOOFING_HEADER_NAMES",
    "AccessChange",
    "KeyedPlanSet",
    "RecordingUpstream",
    "TierViolation",
    "authorization_headers",
    "compiled_matches_reference",
    "config_changes",
    "decisions_ignore_headers_and_other_requests",
    "encoded_template_paths",
    "encoding_variants",
    "encodings_decide_as_canonical",
    "endpoint_catalogues",
    "exemption_ignores_headers",
    "filled_path",
    "first_party_losses",
    "generated_catalogue_path",
    "keyed_plan_sets",
    "no_first_party_regression",
    "path_templates",
    "recording_gateway",
    "rekeyed",
    "reordered_headers",
    "requests",
    "sibling_templates",
    "spoofing_headers",
    "template_paths",
    "tier_violations",
    "tiers_are_monotone",
]
