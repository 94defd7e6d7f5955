"""The segment trie: one endpoint per match, literal before parameter, case-insensitive literals."""

from __future__ import annotations

import pytest

from gateway.core import routing
from gateway.core.paths import PathRejected
from gateway.core.plans import Endpoint
from gateway.core.routing import NO_MATCH, RouteTrie

ENDPOINTS = (
    Endpoint("a", "GET", "/2/tweets/{id}", "tweets"),
    Endpoint("b", "GET", "/2/tweets/search/recent", "search"),
    Endpoint("c", "POST", "/2/tweets", "tweets"),
    Endpoint("d", "GET", "/x/y/c", "s"),
    Endpoint("e", "GET", "/{p}/y/d", "s"),
    Endpoint("f", "GET", "/1.1/Account/verify.json", "login"),
)
TRIE = RouteTrie(ENDPOINTS)


def endpoint_id(method: str, *segments: str) -> str | None:
    match = TRIE.match(method, segments)
    return None if match is None else ENDPOINTS[match.endpoint].id


def test_parameters_match_any_segment_and_literals_match_exactly() -> None:
    assert endpoint_id("GET", "2", "tweets", "123") == "a"
    assert endpoint_id("GET", "2", "tweets", "search", "recent") == "b"
    assert endpoint_id("GET", "2", "tweets") is None
    assert endpoint_id("POST", "2", "tweets") == "c"


def test_methods_have_separate_tries() -> None:
    assert endpoint_id("DELETE", "2", "tweets", "1") is None
    assert endpoint_id("OPTIONS") is None


def test_a_failed_literal_branch_falls_back_to_the_parameter_branch() -> None:
    assert endpoint_id("GET", "x", "y", "c") == "d"
    assert endpoint_id("GET", "x", "y", "d") == "e"


def test_literals_match_case_insensitively_and_report_a_respelling() -> None:
    exact = TRIE.match("GET", ("1.1", "Account", "verify.json"))
    folded = TRIE.match("GET", ("1.1", "ACCOUNT", "VERIFY.JSON"))
    assert exact is not None and not exact.respelled
    assert folded is not None and folded.respelled
    assert TRIE.forwarded_segments(folded.endpoint, ("1.1", "ACCOUNT", "VERIFY.JSON")) == [
        "1.1",
        "Account",
        "verify.json",
    ]


def test_forwarded_segments_keep_parameter_values_as_sent() -> None:
    match = TRIE.match("GET", ("2", "TWEETS", "AbC"))
    assert match is not None
    assert TRIE.forwarded_segments(match.endpoint, ("2", "TWEETS", "AbC")) == ["2", "tweets", "AbC"]


def test_two_spellings_of_one_literal_always_count_as_respelled() -> None:
    trie = RouteTrie((Endpoint("x", "GET", "/Api/one", "s"), Endpoint("y", "GET", "/api/two", "s")))
    match = trie.match("GET", ("api", "one"))
    assert match is not None and match.respelled
    assert trie.forwarded_segments(match.endpoint, ("api", "one")) == ["Api", "one"]


def test_a_literal_spelled_as_the_template_spells_it_is_not_respelled() -> None:
    # Built here, not at import: the trie must be built by the code under test.
    trie = RouteTrie(ENDPOINTS)
    for method, segments in [
        ("GET", ("2", "tweets", "search", "recent")),
        ("GET", ("1.1", "Account", "verify.json")),
        ("GET", ("x", "y", "c")),
        ("POST", ("2", "tweets")),
    ]:
        match = trie.match(method, segments)
        assert match is not None and match.respelled is False, segments


def test_a_prefix_of_a_template_matches_nothing() -> None:
    trie = RouteTrie(ENDPOINTS)
    assert trie.match("GET", ()) is None
    assert trie.match("GET", ("2", "tweets")) is None
    assert trie.match("GET", ("2", "tweets", "search")) is not None  # {id} = "search"
    assert trie.match("GET", ("x", "y")) is None


def test_a_literal_spelled_two_ways_is_forwarded_as_each_template_spells_it() -> None:
    trie = RouteTrie((Endpoint("x", "GET", "/Api/one", "s"), Endpoint("y", "GET", "/api/two", "s")))
    for segments, forwarded in [
        (("Api", "two"), ["api", "two"]),
        (("api", "one"), ["Api", "one"]),
        (("API", "one"), ["Api", "one"]),
    ]:
        match = trie.match("GET", segments)
        assert match is not None and match.respelled is True, segments
        assert trie.forwarded_segments(match.endpoint, segments) == forwarded


def test_segments_that_do_not_fit_the_template_are_an_error_not_a_truncation() -> None:
    match = TRIE.match("GET", ("2", "tweets", "12"))
    assert match is not None
    with pytest.raises(ValueError):
        TRIE.forwarded_segments(match.endpoint, ("2", "tweets", "12", "extra"))
    with pytest.raises(ValueError):
        TRIE.forwarded_segments(match.endpoint, ("2", "tweets"))


def test_route_gives_the_endpoint_and_the_path_to_forward() -> None:
    trie = RouteTrie(ENDPOINTS)
    assert trie.route("GET", "/2/tweets/12") == (0, "/2/tweets/12")
    assert trie.route("GET", "/2//TWEETS/12/") == (0, "/2/tweets/12")
    assert trie.route("GET", "/1.1/account/VERIFY.json") == (5, "/1.1/Account/verify.json")
    assert trie.route("GET", "/nowhere") == (NO_MATCH, "/nowhere")


def test_route_remembers_answers_and_gives_the_same_answer_again() -> None:
    trie = RouteTrie(ENDPOINTS)
    first = trie.route("GET", "/2/tweets/%31%32")
    assert first == (0, "/2/tweets/12")
    assert trie.route("GET", "/2/tweets/%31%32") is first
    assert trie.route("POST", "/2/tweets/%31%32") == (NO_MATCH, "/2/tweets/12")


def test_route_refuses_an_ambiguous_path_every_time_and_remembers_nothing_for_it() -> None:
    trie = RouteTrie(ENDPOINTS)
    for _ in range(2):
        with pytest.raises(PathRejected):
            trie.route("GET", "/2/tweets/%2e%2e")


def test_route_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routing, "ROUTE_MEMORY", 3)
    trie = RouteTrie(ENDPOINTS)
    answers = [trie.route("GET", f"/2/tweets/{n}") for n in range(10)]
    assert [a.path for a in answers] == [f"/2/tweets/{n}" for n in range(10)]
    assert 0 < trie.remembered <= 3


def test_backtracking_from_a_respelled_literal_to_a_parameter_is_not_respelled() -> None:
    """/X/y/d: the greedy walk takes X as the literal x, dead-ends at d, and the search backs up
    to the parameter, where X is a value and nothing was respelled."""
    match = TRIE.match("GET", ("X", "y", "d"))
    assert match is not None and ENDPOINTS[match.endpoint].id == "e"
    assert match.respelled is False
    assert TRIE.forwarded_segments(match.endpoint, ("X", "y", "d")) == ["X", "y", "d"]


def test_backtracking_inside_a_respelled_branch_keeps_the_respelling() -> None:
    """/K/a/y: through the literal k (respelled), the literal a dead-ends, and the parameter
    under k matches: the request is still respelled, and forwarded with k as the template has it."""
    trie = RouteTrie((Endpoint("z", "GET", "/k/a/z", "s"), Endpoint("y", "GET", "/k/{p}/y", "s")))
    match = trie.match("GET", ("K", "a", "y"))
    assert match is not None and match.endpoint == 1
    assert match.respelled is True
    assert trie.route("GET", "/K/a/y") == (1, "/k/a/y")


def test_a_fallback_match_spelled_exactly_is_not_respelled() -> None:
    match = TRIE.match("GET", ("x", "y", "d"))
    assert match is not None and match.respelled is False


def test_a_respelled_prefix_of_a_template_matches_nothing() -> None:
    trie = RouteTrie((Endpoint("one", "GET", "/Api/one", "s"),))
    assert trie.match("GET", ("API",)) is None
    assert trie.match("GET", ("Api",)) is None
    assert trie.route("GET", "/API") == (NO_MATCH, "/API")


def test_route_memory_counts_each_path_once_and_starts_over_when_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routing, "ROUTE_MEMORY", 3)
    trie = RouteTrie(ENDPOINTS)
    assert trie.remembered == 0
    for n in range(3):
        trie.route("GET", f"/2/tweets/{n}")
    trie.route("GET", "/2/tweets/0")
    assert trie.remembered == 3
    trie.route("GET", "/2/tweets/3")
    assert trie.remembered == 1


def test_a_greedy_walk_that_ends_inside_a_longer_template_falls_back_unrespelled() -> None:
    """/a/b: the literals lead into /a/b/c and stop short of its end; the search backs up to {p}/b."""
    trie = RouteTrie((Endpoint("long", "GET", "/a/b/c", "s"), Endpoint("short", "GET", "/{p}/b", "s")))
    match = trie.match("GET", ("a", "b"))
    assert match is not None and match.endpoint == 1
    assert match.respelled is False


REAL_SHAPES = (
    Endpoint("featured", "GET", "/v1/items/featured", "s"),
    Endpoint("number", "GET", "/v1/items/{n:int}", "s"),
    Endpoint("uuid", "GET", "/v1/items/{u:uuid}", "s"),
    Endpoint("decimal", "GET", "/v1/items/{x:float}", "s"),
    Endpoint("lookup", "GET", "/v1/items/{id}", "s"),
    Endpoint("rest", "GET", "/v1/items/{rest:path}", "s"),
    Endpoint("me-likes", "GET", "/2/users/me/likes", "s"),
    Endpoint("user-tweets", "GET", "/2/users/{id}/tweets", "s"),
    Endpoint("head-only", "HEAD", "/v1/items/featured", "s"),
    Endpoint("kelvin", "GET", "/k", "s"),
    Endpoint("anything", "GET", "/{word}", "s"),
)
REAL_TRIE = RouteTrie(REAL_SHAPES)


def real_endpoint(method: str, *segments: str) -> str | None:
    match = REAL_TRIE.match(method, segments)
    return None if match is None else REAL_SHAPES[match.endpoint].id


@pytest.mark.parametrize(
    ("segment", "endpoint"),
    [
        ("featured", "featured"),
        ("Featured", "featured"),
        ("42", "number"),
        ("123e4567-e89b-12d3-a456-426614174000", "uuid"),
        ("4.5", "decimal"),
        ("hello", "lookup"),
        ("jos\u00e9", "lookup"),
        ("hello world", "lookup"),
    ],
)
def test_a_literal_beats_typed_parameters_which_beat_str_which_beats_the_catch_all(
    segment: str, endpoint: str
) -> None:
    assert real_endpoint("GET", "v1", "items", segment) == endpoint


def test_the_catch_all_takes_every_remaining_segment() -> None:
    segments = ("v1", "items", "a", "b", "c")
    match = REAL_TRIE.match("GET", segments)
    assert match is not None and REAL_SHAPES[match.endpoint].id == "rest"
    assert REAL_TRIE.forwarded_segments(match.endpoint, segments) == list(segments)


def test_a_literal_branch_that_dead_ends_backtracks_to_the_parameter_beside_it() -> None:
    assert real_endpoint("GET", "2", "users", "me", "likes") == "me-likes"
    assert real_endpoint("GET", "2", "users", "me", "tweets") == "user-tweets"


def test_head_takes_its_own_endpoint_first_and_otherwise_the_get_it_mirrors() -> None:
    trie = RouteTrie(REAL_SHAPES)
    assert trie.route("HEAD", "/v1/items/featured").endpoint == 8
    assert trie.route("HEAD", "/v1/items/42").endpoint == 1
    assert trie.route("HEAD", "/nowhere/at/all").endpoint == NO_MATCH


def test_only_ascii_folds_onto_a_literal_and_a_unicode_lookalike_of_one_is_refused() -> None:
    # 'K' (Kelvin sign) lowers to an ASCII 'k': the gateway never routes it to the literal, and
    # since an upstream normalizing Unicode would, it does not pass it as the parameter either.
    assert real_endpoint("GET", "K") == "kelvin"
    with pytest.raises(PathRejected) as refused:
        real_endpoint("GET", "\u212a")
    assert refused.value.reason == "lookalike-literal"


def test_a_decoded_value_is_forwarded_decoded_and_routes_once_per_raw_spelling() -> None:
    trie = RouteTrie(REAL_SHAPES)
    assert trie.route("GET", "/v1/items/jos%C3%A9") == (4, "/v1/items/jos\u00e9")
    assert trie.route("GET", "/v1/items/hello%20world") == (4, "/v1/items/hello world")


def test_backtracking_inside_a_respelled_branch_through_a_typed_segment_keeps_the_respelling() -> None:
    """/K/7/a/y: the literal 7 under k dead-ends at y; the search backs up to the int segment beside
    it, still below the respelled k."""
    trie = RouteTrie((Endpoint("z", "GET", "/k/7/a/z", "s"), Endpoint("y", "GET", "/k/{n:int}/a/y", "s")))
    match = trie.match("GET", ("K", "7", "a", "y"))
    assert match is not None and match.endpoint == 1 and match.respelled is True
    assert trie.route("GET", "/K/7/a/y") == (1, "/k/7/a/y")


@pytest.mark.parametrize(
    ("raw", "forwarded", "respelled"),
    [
        ("/K/a/b/c", "/k/a/b/c", True),  # through the search, after the literal a dead-ends
        ("/k/a/b/c", "/k/a/b/c", False),
        ("/K/b/c", "/k/b/c", True),  # straight to the catch-all, on the first walk
        ("/k/b/c", "/k/b/c", False),
    ],
)
def test_backtracking_to_a_catch_all_keeps_or_leaves_the_respelling(
    raw: str, forwarded: str, respelled: bool
) -> None:
    """Below a respelled literal (K for k) a catch-all match is respelled too; below k, it is not."""
    trie = RouteTrie((Endpoint("z", "GET", "/k/a/z", "s"), Endpoint("rest", "GET", "/k/{rest:path}", "s")))
    segments = tuple(raw[1:].split("/"))
    match = trie.match("GET", segments)
    assert match is not None and match.endpoint == 1 and match.respelled is respelled
    assert trie.route("GET", raw) == (1, forwarded)
