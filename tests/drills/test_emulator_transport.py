"""The in-process path to the emulator (emulator/transport.py) answers as the HTTP port does,
and leaves to HTTP what only a socket can show: a request held until the client gives up."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from drill_harness import PRIMARY, SECONDARY, DrillHarness

from emulator.transport import DISPATCH


def _client(harness: DrillHarness, service: str, region: str, **config: object) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=harness.emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
    )


def test_the_in_process_answer_is_the_http_answer(harness: DrillHarness) -> None:
    gid = harness.topology.global_cluster_id
    rds: Any = _client(harness, "rds", PRIMARY)
    served = DISPATCH.served
    in_process = rds.describe_global_clusters(GlobalClusterIdentifier=gid)
    assert DISPATCH.served == served + 1  # this process's clients skip the socket
    DISPATCH.unregister(harness.emulator.endpoint_url.removeprefix("http://"))
    try:
        over_http = rds.describe_global_clusters(GlobalClusterIdentifier=gid)
    finally:
        harness.emulator.serve_in_process()
    assert DISPATCH.served == served + 1
    assert in_process["GlobalClusters"] == over_http["GlobalClusters"]
    # an error is the same error, parsed by botocore from the same body
    with pytest.raises(ClientError) as refused:
        rds.describe_global_clusters(GlobalClusterIdentifier="no-such-cluster")
    assert refused.value.response["Error"]["Code"] == "GlobalClusterNotFoundFault"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_request_a_hanging_region_holds_goes_over_http_and_times_out(
    harness: DrillHarness,
) -> None:
    impatient: Any = _client(harness, "rds", SECONDARY, read_timeout=0.05)
    faults = harness.emulator.faults
    faults.region_down(SECONDARY)  # held without an answer: only a socket can time out
    held = faults.held_count
    served = DISPATCH.served
    try:
        with pytest.raises(ReadTimeoutError):
            impatient.describe_global_clusters()
    finally:
        faults.region_up(SECONDARY)
    assert faults.held_count == held + 1  # held once, by the HTTP server, not twice
    assert DISPATCH.served == served
