"""Bearer keys and the digest-keyed client index."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from gateway.core.credentials import PREFIX_BYTES, CredentialProblem, KeyIndex, bearer_key


@dataclass(frozen=True)
class Holder:
    name: str
    key_digest: bytes

    @property
    def key_digests(self) -> tuple[bytes, ...]:
        return (self.key_digest,)


def holder(name: str, key: bytes) -> Holder:
    return Holder(name, hashlib.sha256(key).digest())


@pytest.mark.parametrize(
    ("values", "key"),
    [([b"Bearer abc"], b"abc"), ([b"bearer abc"], b"abc"), ([b"BEARER  abc "], b"abc")],
)
def test_bearer_key_reads_the_key_whatever_the_scheme_case(values: list[bytes], key: bytes) -> None:
    assert bearer_key(values) == key


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([], "missing"),
        ([b"Bearer a", b"Bearer a"], "ambiguous"),
        ([b"Basic abc"], "malformed"),
        ([b"Bearer"], "malformed"),
        ([b"Bearer "], "malformed"),
        ([b"Bearer a b"], "malformed"),
        ([b"abc"], "malformed"),
    ],
)
def test_bearer_key_problems_are_named(values: list[bytes], reason: str) -> None:
    with pytest.raises(CredentialProblem) as caught:
        bearer_key(values)
    assert caught.value.reason == reason


def test_index_finds_each_client_by_its_key_and_nothing_else() -> None:
    clients = [holder(f"c{n}", f"key-{n}".encode()) for n in range(50)]
    index = KeyIndex(clients)
    assert len(index) == 50
    assert all(index.find(f"key-{n}".encode()) is clients[n] for n in range(50))
    assert index.find(b"key-50") is None
    assert index.find(b"") is None


def test_clients_whose_digests_share_a_prefix_are_told_apart_by_the_full_digest() -> None:
    real = holder("real", b"real-key")
    twin = Holder("twin", real.key_digest[:PREFIX_BYTES] + b"\x00" * (32 - PREFIX_BYTES))
    other = Holder("other", real.key_digest[:PREFIX_BYTES] + b"\x01" * (32 - PREFIX_BYTES))
    index = KeyIndex([twin, real, other])
    assert len(index) == 3
    assert index.find(b"real-key") is real


def test_a_key_matching_only_the_prefix_is_refused() -> None:
    impostor = Holder("impostor", hashlib.sha256(b"k").digest()[:PREFIX_BYTES] + b"\xff" * 24)
    assert KeyIndex([impostor]).find(b"k") is None


def test_a_credential_problem_reads_as_its_reason() -> None:
    with pytest.raises(CredentialProblem) as caught:
        bearer_key([b"Basic abc"])
    assert str(caught.value) == "malformed"


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ([b"Bearer \t XkeyX \t"], b"XkeyX"),
        ([b"Bearer \x0bkey\x0c"], b"\x0bkey\x0c"),
        ([b"Bearer key\r"], b"key\r"),
    ],
)
def test_only_spaces_and_tabs_around_the_key_are_trimmed(values: list[bytes], key: bytes) -> None:
    """Any other byte, whitespace or not, is part of the key (and so must match it)."""
    assert bearer_key(values) == key


def test_a_tab_inside_the_key_makes_it_malformed() -> None:
    with pytest.raises(CredentialProblem) as caught:
        bearer_key([b"Bearer a\tb"])
    assert caught.value.reason == "malformed"


def test_a_client_is_found_in_a_shared_prefix_bucket_whatever_its_place_in_it() -> None:
    real = holder("real", b"real-key")
    twins = [Holder(f"twin{n}", real.key_digest[:PREFIX_BYTES] + bytes([n]) * 24) for n in range(3)]
    for place in range(4):
        clients = [*twins[:place], real, *twins[place:]]
        index = KeyIndex(clients)
        assert len(index) == 4
        assert index.find(b"real-key") is real, place


def test_a_key_with_surrounding_spaces_is_trimmed_of_spaces_and_tabs_only() -> None:
    assert bearer_key([b"Bearer \x0bkey \t"]) == b"\x0bkey"
