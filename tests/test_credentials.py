"""Bearer keys and the digest-keyed client index."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from gateway.credentials import PREFIX_BYTES, CredentialProblem, KeyIndex, bearer_key


@dataclass(frozen=True)
class Holder:
    name: str
    key_digest: bytes


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
