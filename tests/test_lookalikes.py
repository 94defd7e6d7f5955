"""Unicode lookalikes are refused where an upstream that normalizes Unicode would read them
otherwise than the gateway decided: as a separator (U+FF0F FULLWIDTH SOLIDUS for '/'), or as a
sibling literal filling a parameter (U+017F LONG S for the 's' of `search`, beside `{id}`)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.compiler import compile_plan_set
from gateway.core.paths import PathRejected, canonical_segments
from gateway.core.planfile import load_plan_set
from gateway.core.plans import Endpoint
from gateway.core.routing import RouteTrie
from gateway.core.templates import parse_template
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.verification import RecordingUpstream
from tests.conftest import BILLING
from tests.test_middleware import send

TRIE = RouteTrie(
    [
        Endpoint("tweet", "GET", "/2/tweets/{id}", "tweets"),
        Endpoint("search", "GET", "/2/tweets/search", "search"),
        Endpoint("user", "GET", "/2/users/{id}", "users"),
        Endpoint("by", "GET", "/2/users/by/{name}", "users"),
    ]
)


def route(path: str) -> int:
    return TRIE.route("GET", path).endpoint


@pytest.mark.parametrize(
    "segment",
    [
        "\uff0f",  # FULLWIDTH SOLIDUS: '/'
        "a\uff0fb",
        "\uff3c",  # FULLWIDTH REVERSE SOLIDUS: '\\'
        "\uff05" + "2e",  # FULLWIDTH PERCENT SIGN: an escape to come
        "\uff1b",  # FULLWIDTH SEMICOLON: ';'
        "\uff03",  # FULLWIDTH NUMBER SIGN: '#'
        "\uff1f",  # FULLWIDTH QUESTION MARK: '?'
        "\uff0e\uff0e",  # FULLWIDTH FULL STOPs: '..'
        "\u2024\u2024",  # ONE DOT LEADERs: '..'
    ],
)
def test_a_segment_that_normalizes_to_a_separator_or_dot_segment_is_refused(segment: str) -> None:
    with pytest.raises(PathRejected) as refused:
        canonical_segments("/2/tweets/" + quote(segment, safe=""))
    assert refused.value.reason == "lookalike-separator"


@pytest.mark.parametrize(
    ("parent", "segment"),
    [
        ("/2/tweets/", "\u017fearch"),  # LATIN SMALL LETTER LONG S
        ("/2/tweets/", "\uff53\uff45\uff41\uff52\uff43\uff48"),  # fullwidth 'search'
        ("/2/tweets/", "\u017fEARCH"),  # and in another case
        ("/2/users/", "\uff42\uff59"),  # fullwidth 'by', beside /2/users/{id}
    ],
)
def test_a_lookalike_of_a_sibling_literal_filling_a_parameter_is_refused(parent: str, segment: str) -> None:
    with pytest.raises(PathRejected) as refused:
        route(parent + quote(segment, safe=""))
    assert refused.value.reason == "lookalike-literal"


def test_a_dotless_i_is_read_as_i_by_an_upper_casing_upstream() -> None:
    trie = RouteTrie([Endpoint("a", "GET", "/v1/{x}", "s"), Endpoint("b", "GET", "/v1/items", "s")])
    with pytest.raises(PathRejected):
        trie.route("GET", "/v1/" + quote("\u0131tems", safe=""))


def test_non_ascii_values_that_look_like_no_literal_still_fill_parameters() -> None:
    assert route("/2/tweets/" + quote("jos\u00e9", safe="")) == 0
    assert route("/2/users/" + quote("\u00fcber", safe="")) == 2
    assert route("/2/tweets/search") == 1


def test_through_the_middleware_the_lookalike_is_a_400_and_never_reaches_the_app() -> None:
    upstream = RecordingUpstream()
    app = EntitlementMiddleware(upstream, compile_plan_set(load_plan_set(BILLING)))
    response = send(app, "GET", "/2/tweets/" + quote("\u017fearch", safe="") + "/all", "sunrise-bot")
    assert response.status == 400
    assert response.header("x-gw467-rule") == "path:lookalike-literal"
    assert upstream.scopes == []


FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(ord("a"), ord("z") + 1)}
SHIPPED = compile_plan_set(load_plan_set(BILLING))


def literals_beside_parameters() -> list[tuple[str, str, str]]:
    """(method, path up to the literal, literal) for each literal that a parameter stands beside."""
    templates = [(e.method, parse_template(e.path)) for e in SHIPPED.plan_set.endpoints]
    found = set()
    for method, template in templates:
        for position, segment in enumerate(template):
            beside_a_parameter = any(
                other_method == method
                and len(other) > position
                and other[:position] == template[:position]
                and other[position].is_parameter
                for other_method, other in templates
            )
            if not segment.is_parameter and segment.value.isalpha() and beside_a_parameter:
                prefix = "".join("/" + (s.value if not s.is_parameter else "12") for s in template[:position])
                found.add((method, prefix, segment.value))
    return sorted(found)


LITERALS = literals_beside_parameters()


def test_the_shipped_catalogue_has_literals_beside_parameters() -> None:
    assert ("GET", "/2/tweets", "search") in LITERALS
    assert ("GET", "/2/users", "by") in LITERALS


@given(st.sampled_from(LITERALS), st.data())
def test_every_fullwidth_spelling_of_a_literal_beside_a_parameter_is_refused(
    case: tuple[str, str, str], data: st.DataObject
) -> None:
    """For every literal of the shipped catalogue that stands beside a parameter, any spelling of it
    with at least one letter in fullwidth form is refused, never routed to the parameter."""
    method, prefix, literal = case
    positions = data.draw(st.sets(st.integers(0, len(literal) - 1), min_size=1))
    spelled = "".join(
        FULLWIDTH.get(char.lower(), char) if index in positions else char
        for index, char in enumerate(literal)
    )
    with pytest.raises(PathRejected):
        SHIPPED.routes.route(method, f"{prefix}/{quote(spelled, safe='')}")
