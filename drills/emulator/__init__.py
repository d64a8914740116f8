"""A local AWS for drills: moto's HTTP server extended with what moto lacks.

moto has no Aurora global switchover/failover (and mishandles removing a secondary from a
global cluster), no DynamoDB global-table replicas and no ElastiCache global datastores. This
package adds them to moto's backends with realistic status transitions, configurable delays and
replication lag, plus fault injection (a region that stops answering, throttling, an operation
that never completes), and serves everything from ``moto.server.ThreadedMotoServer`` on
127.0.0.1. Drill code talks to it only through boto3's ``AWS_ENDPOINT_URL``.
"""

from .seed import SeededStack, seed_topology
from .server import Emulator, install
from .state import STATE, EmulatorTimings, Faults

__all__ = [
    "STATE",
    "Emulator",
    "EmulatorTimings",
    "Faults",
    "SeededStack",
    "install",
    "seed_topology",
]
