"""Rules as values: each kind formats once into the text of `x-gw467-rule`, and says whether it allows."""

from __future__ import annotations

import pytest

from gateway.core.rules import NO_ROUTE, Rule, RuleKind, not_authenticated, path_refused, quota_spent


@pytest.mark.parametrize(
    ("rule", "text", "allows"),
    [
        (Rule(RuleKind.EXEMPT, selector="first_party"), "exempt:first_party", True),
        (Rule(RuleKind.GRANT, plan="basic", pattern="links.*"), "plan:basic/grant:links.*", True),
        (Rule(RuleKind.DENY, plan="free"), "plan:free/deny", False),
        (Rule(RuleKind.DENY), "plan:none/deny", False),
        (quota_spent("free"), "quota:free", False),
        (NO_ROUTE, "route:none", False),
        (path_refused("dot-segment"), "path:dot-segment", False),
        (not_authenticated("unknown-key"), "auth:unknown-key", False),
    ],
)
def test_every_kind_of_rule_formats_into_its_header_text_and_says_whether_it_allows(
    rule: Rule, text: str, allows: bool
) -> None:
    assert (str(rule), rule.text, rule.encoded, rule.allows) == (text, text, text.encode(), allows)


def test_rules_compare_by_their_fields_not_by_their_text() -> None:
    assert Rule(RuleKind.DENY, plan="free") == Rule(RuleKind.DENY, plan="free")
    assert Rule(RuleKind.DENY, plan="free") != Rule(RuleKind.QUOTA, plan="free")
    assert path_refused("fragment") is path_refused("fragment")  # built once per reason
