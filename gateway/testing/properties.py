"""Ready-made Hypothesis property tests over two compiled plan tables.

Each factory returns a test function (decorated with `@given`) that a test
module can bind to a name, so teams run the same properties on their own files:
`test_no_regression = no_first_party_regression(baseline_table, candidate_table)`.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from gateway.decision import DecisionTable
from gateway.testing.invariants import first_party_regression


def no_first_party_regression(baseline: DecisionTable, candidate: DecisionTable) -> Callable[[], None]:
    """Property: no first-party client loses, in the candidate, an endpoint it reached in the baseline."""
    client_ids = [client.id for client in candidate.clients]
    endpoint_ids = [endpoint.id for endpoint in candidate.endpoints]

    @given(client_id=st.sampled_from(client_ids), endpoint_id=st.sampled_from(endpoint_ids))
    def check(client_id: str, endpoint_id: str) -> None:
        regression = first_party_regression(baseline, candidate, client_id, endpoint_id)
        assert regression is None, str(regression)

    return check
