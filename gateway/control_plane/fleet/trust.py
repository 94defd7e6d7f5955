"""What a fleet worker trusts: stage documents signed with the fleet secret, and a private state
directory. The store (Redis) carries the fleet's state but is no authority over it: whoever can
write a key there could otherwise put any plan in force on every worker within a second.

- The fleet secret comes from a file (GW467_FLEET_SECRET_FILE, readable by its owner only) or
  from GW467_FLEET_SECRET, never from the command line, where `ps` would show it. Every worker
  of a fleet has the same one.
- A stage document is stored as `<HMAC-SHA256 of the document, hex>\\n<document>`; a worker
  applies only a document whose signature verifies (compared in constant time). Plan texts need
  no signature of their own: the signed document names each by its SHA-256.
- The state directory (last good version) is private (`gateway.stores.private_files`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from gateway.control_plane.stage_document import StageDocument
from gateway.stores.private_files import TrustError, owner_only_file

SECRET_VARIABLE = "GW467_FLEET_SECRET"
SECRET_FILE_VARIABLE = "GW467_FLEET_SECRET_FILE"
MIN_SECRET_BYTES = 16
SIGNATURE_BYTES = 64  # hex of HMAC-SHA256


def fleet_secret(environment: Mapping[str, str] = os.environ) -> bytes:
    """The fleet secret from GW467_FLEET_SECRET_FILE, else GW467_FLEET_SECRET; TrustError when
    there is none, it is short, or its file may be read by others."""
    path = environment.get(SECRET_FILE_VARIABLE)
    if path:
        secret = owner_only_file(SECRET_FILE_VARIABLE, path)
        where = SECRET_FILE_VARIABLE
    else:
        secret = environment.get(SECRET_VARIABLE, "").encode()
        where = SECRET_VARIABLE
    if not secret:
        raise TrustError(
            "fleet mode needs the fleet secret every worker shares, to sign and check the stage: "
            f"put it in a file only the gateway's user can read and set {SECRET_FILE_VARIABLE} to "
            f"its path (or set {SECRET_VARIABLE})"
        )
    if len(secret) < MIN_SECRET_BYTES:
        raise TrustError(f"{where}: the fleet secret is shorter than {MIN_SECRET_BYTES} bytes")
    return secret


def sign(document: bytes, secret: bytes) -> bytes:
    """The document with its signature in front, as it is stored."""
    return _signature(document, secret) + b"\n" + document


def verified(signed: bytes, secret: bytes) -> bytes:
    """The document inside `signed`; TrustError when it is unsigned or signed with another secret."""
    signature, newline, document = signed.partition(b"\n")
    if not newline or len(signature) != SIGNATURE_BYTES:
        raise TrustError("the stage in the store is not signed")
    if not hmac.compare_digest(signature, _signature(document, secret)):
        raise TrustError("the stage in the store is not signed with this fleet's secret")
    return document


def _signature(document: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, document, hashlib.sha256).hexdigest().encode("ascii")


def signed_document(document: StageDocument, secret: bytes) -> bytes:
    """The stage document as the store holds it: signed with the fleet secret."""
    return sign(document.encode(), secret)


def trusted_document(data: bytes, secret: bytes) -> StageDocument:
    """The stage document in `data`; TrustError when it is not signed with `secret`, ValueError
    (or KeyError, TypeError) when it is signed but is no stage document."""
    return StageDocument.decode(verified(data, secret))
