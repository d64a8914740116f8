"""Loopback addresses per region: names map to addresses as on AWS, one network per region.

The first region of the pair listens on 127.0.1.x, the second on 127.0.2.x (issue 18), on the
same port in both, so a client that reaches the wrong region reaches a different address, and
what a DNS answer points at says which region it leads to. Linux routes all of 127.0.0.0/8 to
the loopback interface, so binding these needs no privilege.
"""

from __future__ import annotations

SERVER_HOST = 1
"""Host part of the region's server address (127.0.<n>.1): the address applications reach,
the region's network edge (a :class:`~.link.Link` the emulator can cut, as an FIS network
disruption cuts a subnet off)."""
INNER_HOST = 2
"""Host part of the address the servers themselves listen on (127.0.<n>.2), behind that edge:
only the edge and the servers' administration (AWS's management path, which a network ACL on
the customer's subnets does not cut) use it."""
LINK_HOST = 250
"""Host part of the inter-region link's end in a region (127.0.<n>.250): replication from the
other region arrives there, so the emulator can hold or cut it like a real network."""


def region_network(index: int) -> str:
    """``127.0.<index + 1>``: the loopback network of the pair's ``index``-th region."""
    if index not in (0, 1):
        raise ValueError(f"region index {index}: a region pair has regions 0 and 1")
    return f"127.0.{index + 1}"


def server_address(index: int) -> str:
    """The address a region's servers listen on."""
    return f"{region_network(index)}.{SERVER_HOST}"


def inner_address(index: int) -> str:
    """The address a region's server processes listen on, behind the region's edge."""
    return f"{region_network(index)}.{INNER_HOST}"


def link_address(index: int) -> str:
    """The address replication arriving in the region connects through."""
    return f"{region_network(index)}.{LINK_HOST}"
