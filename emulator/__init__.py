"""A region pair on one machine: an emulated AWS control plane, and real servers behind it.

A product of its own, beside the drills that use it: application teams can rehearse against
it too (``python -m drills serve`` keeps one standing). It knows nothing of the drills.

- The control plane is moto's HTTP server extended with what moto lacks: Aurora global
  switchover and failover (and a correct removal of a secondary), DynamoDB global-table
  replicas, ElastiCache global datastores, Route 53 health checks that read CloudWatch alarms,
  FIS experiments; realistic status transitions, delays and replication lag; and faults (a
  region that stops answering, throttling, an operation that never completes). Clients reach
  it through boto3's ``AWS_ENDPOINT_URL`` (:mod:`.server`), or in the same process without
  the socket (:mod:`.transport`, for test suites).
- The data plane (:mod:`.dataplane`) is real: a PostgreSQL server and a Redis-protocol server
  per region on the region's own loopback addresses, replicating as Aurora and ElastiCache
  do, and a DNS server for the names applications use.
"""

from .server import Emulator, install
from .state import STATE, EmulatorTimings, Faults

__all__ = [
    "STATE",
    "Emulator",
    "EmulatorTimings",
    "Faults",
    "install",
]
