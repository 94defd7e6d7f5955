"""Canonical request paths: normalized spellings and refused ambiguities."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from gateway.core.paths import (
    MAX_PATH_BYTES,
    PathRejected,
    canonical_segments,
    join_segments,
    origin_path,
    raw_path_for,
)


@pytest.mark.parametrize(
    ("raw", "segments"),
    [
        ("/2/tweets/12", ("2", "tweets", "12")),
        ("/2//tweets///12", ("2", "tweets", "12")),
        ("/2/tweets/12/", ("2", "tweets", "12")),
        ("/%32/tw%65ets/12", ("2", "tweets", "12")),
        ("/2/tw%65ets/%7e~", ("2", "tweets", "~~")),
        ("/a/b:c@d!$&'()*+,=", ("a", "b:c@d!$&'()*+,=")),
        ("/", ()),
        ("//", ()),
        ("/.well-known/x", (".well-known", "x")),
        ("/a/...", ("a", "...")),
    ],
)
def test_equivalent_spellings_have_one_canonical_form(raw: str, segments: tuple[str, ...]) -> None:
    assert canonical_segments(raw) == segments


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("/a/%2F/b", "encoded-slash"),
        ("/a/%2f", "encoded-slash"),
        ("/a/%5C", "encoded-slash"),
        ("/a/..", "dot-segment"),
        ("/a/./b", "dot-segment"),
        ("/a/%2e%2E", "dot-segment"),
        ("/a/.%2e/b", "dot-segment"),
        ("/a/%252F", "double-encoding"),
        ("/a/%00", "control-character"),
        ("/a/\x00", "control-character"),
        ("/a/%0A", "control-character"),
        ("/a;b=c", "path-parameter"),
        ("/a#b", "fragment"),
        ("/a\\b", "backslash"),
        ("/a/\u00e9", "non-ascii"),
        ("/a b", "forbidden-character"),
        ("/a/%3B", "forbidden-encoded-character"),
        ("/a/%C3", "bad-utf8"),
        ("/a/%C3%28", "bad-utf8"),
        ("/a/%FF", "bad-utf8"),
        ("/a/%C0%AF", "bad-utf8"),
        ("/a/%C2%85", "control-character"),
        ("/a/%E2%80%A8", "control-character"),
        ("/a/%C3%A9%2F", "encoded-slash"),
        ("/a/%C3%A9%5C", "encoded-slash"),
        ("/a/%25C3%25A9", "double-encoding"),
        ("/a/%3F", "forbidden-encoded-character"),
        ("/a/%G1", "bad-percent-encoding"),
        ("/a/%4", "bad-percent-encoding"),
        ("a/b", "not-absolute"),
        ("", "not-absolute"),
        ("/" + "a" * MAX_PATH_BYTES, "too-long"),
    ],
)
def test_ambiguous_paths_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(PathRejected) as caught:
        canonical_segments(raw)
    assert caught.value.reason == reason


def test_a_canonical_path_never_contains_a_percent_sign() -> None:
    assert "%" not in join_segments(canonical_segments("/%41%42/%7E"))


def test_join_segments_of_nothing_is_the_root() -> None:
    assert join_segments(()) == "/"


def test_a_refusal_reads_as_its_reason() -> None:
    with pytest.raises(PathRejected) as caught:
        canonical_segments("/a/%2F")
    assert str(caught.value) == "encoded-slash"


def test_the_length_limit_is_2048_bytes_inclusive_on_every_path() -> None:
    # '//' and '%41' send these through the slow path, which enforces the limit itself.
    doubled = "//" + "a" * (MAX_PATH_BYTES - 2)
    escaped = "/%41" + "a" * (MAX_PATH_BYTES - 4)
    assert len(doubled) == len(escaped) == MAX_PATH_BYTES
    assert canonical_segments(doubled) == ("a" * (MAX_PATH_BYTES - 2),)
    assert canonical_segments(escaped) == ("A" + "a" * (MAX_PATH_BYTES - 4),)
    for too_long in (doubled + "a", escaped + "a"):
        with pytest.raises(PathRejected) as caught:
            canonical_segments(too_long)
        assert caught.value.reason == "too-long"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("/a\x7f", "control-character"),
        ("/a/%7F", "control-character"),
        ("/a/%7f", "control-character"),
        ("/a/%1F", "control-character"),
        ("/a/%22", "forbidden-encoded-character"),
        ("/~a;b", "path-parameter"),
        ("/~a#b", "fragment"),
        ("/~a b", "forbidden-character"),
    ],
)
def test_refusal_reasons_at_the_edges_of_each_character_class(raw: str, reason: str) -> None:
    """DEL is a control character, a space is not one, and '~' (0x7E) is the last allowed ASCII."""
    with pytest.raises(PathRejected) as caught:
        canonical_segments(raw)
    assert caught.value.reason == reason


def test_escaped_letters_digits_and_allowed_punctuation_decode_to_themselves() -> None:
    assert canonical_segments("/%58%78/%30%39/%21%40%3A%7E%2D%2E%5F") == ("Xx", "09", "!@:~-._")


@pytest.mark.parametrize(
    ("raw", "segments"),
    [
        ("/v1/items/hello%20world", ("v1", "items", "hello world")),
        ("/v1/items/jos%C3%A9", ("v1", "items", "jos\u00e9")),
        ("/v1/items/jos%c3%a9", ("v1", "items", "jos\u00e9")),
        ("/v1/items/%F0%9F%90%A6", ("v1", "items", "\U0001f426")),
        ("/v1/%20", ("v1", " ")),
        # A UTF-8 run followed by a plain character, and by an escaped ASCII one: the run is
        # decoded where it stands, before what follows it.
        ("/v1/items/caf%C3%A9s", ("v1", "items", "caf\u00e9s")),
        ("/v1/items/%C3%A9%41", ("v1", "items", "\u00e9A")),
    ],
)
def test_escaped_spaces_and_utf8_decode_as_starlette_decodes_them(
    raw: str, segments: tuple[str, ...]
) -> None:
    assert canonical_segments(raw) == segments
    assert canonical_segments(raw) == tuple(unquote(raw)[1:].split("/"))


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/items/42", b"/v1/items/42"),
        ("/v1/items/hello world", b"/v1/items/hello%20world"),
        ("/v1/items/jos\u00e9", b"/v1/items/jos%C3%A9"),
    ],
)
def test_the_raw_path_of_a_canonical_path_is_rebuilt_from_it_and_decodes_back(path: str, raw: bytes) -> None:
    assert raw_path_for(path) == raw
    assert canonical_segments(raw.decode("ascii")) == tuple(path[1:].split("/"))


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("http://api.twitter.com/2/tweets/1", "/2/tweets/1"),
        ("HTTPS://api.twitter.com:443/2/users/me", "/2/users/me"),
        ("http://[::1]:8467/2/tweets/7", "/2/tweets/7"),
        ("http://api.twitter.com", "/"),
        ("http://api.twitter.com:8080", "/"),
    ],
)
def test_an_absolute_form_target_yields_its_path_or_the_root(target: str, path: str) -> None:
    assert origin_path(target) == path


@pytest.mark.parametrize("target", ["http://", "ftp://host/a", "http://bad host/a", "http://host:123456/a"])
def test_an_absolute_form_target_without_a_well_formed_authority_is_refused(target: str) -> None:
    with pytest.raises(PathRejected) as caught:
        origin_path(target)
    assert caught.value.reason == "not-absolute"
