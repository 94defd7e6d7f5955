"""Path templates: the grammar, its refusals, how templates rank, and when two are ambiguous."""

from __future__ import annotations

import pytest

from gateway.core.templates import (
    MAX_SEGMENTS,
    Segment,
    TemplateError,
    parse_template,
    precedence,
    templates_ambiguous,
)


def literal(value: str) -> Segment:
    return Segment(value, is_parameter=False)


def parameter(name: str, converter: str = "str") -> Segment:
    return Segment(name, is_parameter=True, converter=converter)


def test_root_template_has_no_segments() -> None:
    assert parse_template("/") == ()


def test_template_splits_into_literals_and_parameters() -> None:
    assert parse_template("/2/users/{id}/tweets") == (
        literal("2"),
        literal("users"),
        parameter("id"),
        literal("tweets"),
    )


@pytest.mark.parametrize(
    "template",
    ["/1.1/media/upload.json", "/a-b_c~d", "/{_private}", "/{id1}/{id2}", "/" + "/".join("a" * MAX_SEGMENTS)],
)
def test_well_formed_templates_are_accepted(template: str) -> None:
    assert len(parse_template(template)) == template.count("/")


def test_literal_keeps_its_spelling_and_folds_for_comparison() -> None:
    (segment,) = parse_template("/Users")
    assert segment.value == "Users"
    assert segment.folded == "users"


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("", "must start with '/'"),
        ("2/tweets", "must start with '/'"),
        ("/2/tweets/", "must not end with '/'"),
        ("/2//tweets", "empty segment ('//')"),
        ("/2/./tweets", "dot segment '.'"),
        ("/2/..", "dot segment '..'"),
        ("/2/{id}.json", "has segment '{id}.json'"),
        (
            "/2/{id:number}",
            "unknown converter 'number' in '{id:number}' (converters: int, uuid, float, str, path)",
        ),
        ("/2/{id:}", "unknown converter ''"),
        ("/files/{rest:path}/raw", "has '{rest:path}' before its end: a path parameter is a catch-all"),
        ("/2/{id", "has segment '{id'"),
        ("/2/{}", "has segment '{}'"),
        ("/2/{1id}", "has segment '{1id}'"),
        ("/2/a b", "has segment 'a b'"),
        ("/2/caf\u00e9", "has segment 'caf\u00e9'"),
        ("/{id}/x/{id}", "repeats parameter {id}"),
        ("/" + "/".join("a" * (MAX_SEGMENTS + 1)), f"more than {MAX_SEGMENTS} segments"),
    ],
)
def test_malformed_template_is_refused_saying_why(template: str, words: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(template)
    message = str(caught.value)
    assert message.startswith(f"path template {template!r} ")
    assert words in message
    assert "\n" not in message


def test_bad_segment_message_describes_the_grammar() -> None:
    with pytest.raises(
        TemplateError, match=r"either \{name\}, \{name:converter\} or letters, digits and '-\._~'"
    ):
        parse_template("/a+b")


def test_template_error_is_a_value_error() -> None:
    assert issubclass(TemplateError, ValueError)


def test_converters_are_parsed_and_a_bare_parameter_is_a_str_one() -> None:
    assert parse_template("/v1/{a}/{b:str}/{c:int}/{d:uuid}/{e:float}/{rest:path}") == (
        literal("v1"),
        parameter("a"),
        parameter("b"),
        parameter("c", "int"),
        parameter("d", "uuid"),
        parameter("e", "float"),
        parameter("rest", "path"),
    )


def test_precedence_ranks_literal_then_typed_then_str_then_path() -> None:
    ranks = [
        precedence(parse_template(t))
        for t in ("/a", "/{x:int}", "/{x:uuid}", "/{x:float}", "/{x}", "/{x:path}")
    ]
    assert ranks == sorted(ranks) and len(set(ranks)) == 6


def test_a_literal_beside_a_parameter_ranks_first_whatever_follows() -> None:
    assert precedence(parse_template("/2/users/me/{x:path}")) < precedence(
        parse_template("/2/users/{id}/tweets")
    )


@pytest.mark.parametrize(
    ("first", "second", "ambiguous"),
    [
        ("/2/tweets", "/2/tweets", True),
        ("/2/users/{id}", "/2/users/{user_id}", True),
        ("/2/users/{id}", "/2/users/{id:str}", True),
        ("/2/users/{id:int}", "/2/users/{n:int}", True),
        ("/files/{a:path}", "/files/{b:path}", True),
        ("/2/Tweets", "/2/tWEETS", True),
        ("/", "/", True),
        ("/2/users/me", "/2/users/{id}", False),
        ("/v1/items/featured", "/v1/items/{id}", False),
        ("/{a}/tweets", "/users/{b}", False),
        ("/items/{id:int}", "/items/{id}", False),
        ("/items/{id:int}", "/items/{id:float}", False),
        ("/items/{id:uuid}", "/items/{id:int}", False),
        ("/files/{rest:path}", "/files/{name}", False),
        ("/files/{rest:path}", "/files/{dir}/{rest:path}", False),
        ("/2/tweets", "/2/users", False),
        ("/2/users/{id}", "/2/users/{id}/tweets", False),
        ("/", "/{id}", False),
        ("/2/{id}/likes", "/2/{id}/retweets", False),
    ],
)
def test_only_templates_matching_the_same_requests_are_ambiguous(
    first: str, second: str, ambiguous: bool
) -> None:
    a, b = parse_template(first), parse_template(second)
    assert templates_ambiguous(a, b) is ambiguous
    assert templates_ambiguous(b, a) is ambiguous
