"""A real data plane behind the emulated control plane: a region pair on one machine.

Each region's Aurora cluster is a PostgreSQL server and each region's cache a Redis-protocol
server, on the region's own loopback network (127.0.1.x, 127.0.2.x), replicating across a link
the emulator can hold or cut; a local CA signs certificates that name the AWS-style endpoints,
and a DNS server on 127.0.0.1 answers the private zone and the AWS-owned names. The drill
engine never imports this package: the emulator binds a seeded stack to it
(``Emulator.attach``), and its control-plane operations drive the servers.
"""

from .postgres import DataPlaneError
from .regionpair import Binding, RegionPair

__all__ = ["Binding", "DataPlaneError", "RegionPair"]
