"""Reusable property-testing kit: Hypothesis strategies and invariant checks for plan files.

Import it in your own test suite (needs the `test` extra: hypothesis):
`from gateway.testing import keyed_plan_sets, first_party_regressions`.
"""

from gateway.testing.invariants import Regression, first_party_regression, first_party_regressions
from gateway.testing.properties import no_first_party_regression
from gateway.testing.strategies import (
    ENCODING_VARIANTS,
    REFUSED_VARIANTS,
    KeyedPlanSet,
    authorization_headers,
    encoding_variants,
    endpoint_catalogues,
    filled_path,
    keyed_plan_sets,
    path_templates,
    requests,
    template_paths,
)

__all__ = [
    "ENCODING_VARIANTS",
    "REFUSED_VARIANTS",
    "KeyedPlanSet",
    "Regression",
    "authorization_headers",
    "encoding_variants",
    "endpoint_catalogues",
    "filled_path",
    "first_party_regression",
    "first_party_regressions",
    "keyed_plan_sets",
    "no_first_party_regression",
    "path_templates",
    "requests",
    "template_paths",
]
