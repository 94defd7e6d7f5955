"""Who is on the other end of a connection: the one loopback test the control endpoints use.

Read from the ASGI scope's `client` (the TCP peer), never from a header a caller can set.
"""

from __future__ import annotations

import ipaddress

from starlette.types import Scope


def from_loopback(scope: Scope) -> bool:
    """Whether the peer is on a loopback address (an IPv4-mapped IPv6 one included).

    A peer without an address (a Unix socket, most often a proxy's) is refused.
    """
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False  # a Unix socket peer or a name: not provably local
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
