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
        if value[:7].lower() == _BEARER:
            key = value[7:]
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


class HasKeyDigest(Protocol):
    @property
    def key_digest(self) -> bytes: ...


ClientT = TypeVar("ClientT", bound=HasKeyDigest)


class KeyIndex(Generic[ClientT]):
    """Clients by the SHA-256 digest of their key.

    The table is keyed by the digest's first 8 bytes (less memory at a million
    keys); the full digest is then compared in constant time, so the table lookup
    only narrows the search and the comparison decides.
    """

    def __init__(self, clients: Iterable[ClientT]) -> None:
        self._by_prefix: dict[bytes, ClientT] = {}
        self._shared_prefix: dict[bytes, list[ClientT]] = {}
        for client in clients:
            prefix = client.key_digest[:PREFIX_BYTES]
            if prefix in self._shared_prefix:
                self._shared_prefix[prefix].append(client)
            elif prefix in self._by_prefix:
                self._shared_prefix[prefix] = [self._by_prefix.pop(prefix), client]
            else:
                self._by_prefix[prefix] = client
        self._size = len(self._by_prefix) + sum(map(len, self._shared_prefix.values()))

    def __len__(self) -> int:
        return self._size

    def find(self, key: bytes) -> ClientT | None:
        digest = hashlib.sha256(key).digest()
        prefix = digest[:PREFIX_BYTES]
        client = self._by_prefix.get(prefix)
        if client is not None:
            return client if hmac.compare_digest(client.key_digest, digest) else None
        for candidate in self._shared_prefix.get(prefix, ()):
            if hmac.compare_digest(candidate.key_digest, digest):
                return candidate
        return None
