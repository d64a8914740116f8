"""The ``app-names-<region>`` precondition (issue 18 item 3): before it changes anything, a drill
connects through every name applications use, from where applications are. On AWS the stack's
probe function in each data VPC runs the probes (``lambda:InvokeFunction``) and the drill
refuses without it; the sandbox runs the same handler code against the real region pair."""

from __future__ import annotations

import io
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from drill_harness import PRIMARY, SECONDARY, DrillHarness

from components.functions.drill_probe import run_probes
from drills.drill import start_drill
from drills.preconditions import (
    ProbeFunctionError,
    app_name_checks,
    application_probes,
    lambda_invoker,
)
from drills.sandbox import region_pair_invoker
from drills.target import target_from_outputs
from emulator.dataplane import RegionPair

ADDRESS = {PRIMARY: "127.0.1.1", SECONDARY: "127.0.2.1"}


def test_on_aws_a_stack_without_the_probe_function_is_refused(
    harness: DrillHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drills.preconditions as preconditions

    monkeypatch.setattr(preconditions, "reaches_aws", lambda ctx: True)
    result = harness.run("planned-switchover")

    assert result.status == "refused"
    for region in (PRIMARY, SECONDARY):
        assert (
            f"app-names-{region}: the stack exports no drillProbes function for {region}: set "
            "drillsProbes: true in stacks/Pulumi.dev.yaml and deploy"
        ) in result.reason
    assert harness.writer_region() == PRIMARY  # nothing moved


class _Lambda:
    """``ctx.aws.call`` for lambda:Invoke: the request as sent, the answer Lambda returns."""

    def __init__(self, body: Any, function_error: str | None = None) -> None:
        self.body, self.function_error = body, function_error
        self.requests: list[tuple[str, str, str, dict[str, Any]]] = []

    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        self.requests.append((service, region, operation, kwargs))
        answer: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(self.body).encode()),
        }
        if self.function_error:
            answer["FunctionError"] = self.function_error
        return answer


def _ctx(aws: Any, outputs: dict[str, Any]) -> Any:
    target = SimpleNamespace(raw=outputs)
    return SimpleNamespace(aws=aws, target=target, journal=SimpleNamespace(data={"stack": "prod"}))


def test_the_drill_invokes_each_regions_function_and_reads_its_answer() -> None:
    functions = {r: f"securecart-prod-drill-probe-{r}" for r in (PRIMARY, SECONDARY)}
    result = {"store": "aurora", "name": "writer.z", "address": "10.1.0.5", "ok": True}
    aws = _Lambda({"region": SECONDARY, "results": [result]})
    event = {"probes": [{"store": "aurora", "name": "writer.z", "tlsName": "w", "port": 5432}]}

    answer = lambda_invoker(_ctx(aws, {"drillProbes": functions}))(SECONDARY, event)

    assert answer["results"] == [result]
    ((service, region, operation, kwargs),) = aws.requests
    assert (service, region, operation) == ("lambda", SECONDARY, "invoke")
    assert kwargs["FunctionName"] == functions[SECONDARY]
    assert kwargs["InvocationType"] == "RequestResponse"  # the answer is the return value
    assert json.loads(kwargs["Payload"]) == event


def test_a_function_that_fails_or_is_missing_is_a_failed_check_not_a_crash() -> None:
    functions = {PRIMARY: "securecart-prod-drill-probe-us-east-1"}
    failing = _Lambda({"errorMessage": "Task timed out after 60.00 seconds"}, "Unhandled")
    with pytest.raises(
        ProbeFunctionError, match=re.escape("Unhandled: Task timed out after 60.00 seconds")
    ):
        lambda_invoker(_ctx(failing, {"drillProbes": functions}))(PRIMARY, {"probes": []})
    with pytest.raises(ProbeFunctionError, match="no drillProbes function for us-west-2"):
        lambda_invoker(_ctx(failing, {"drillProbes": functions}))(SECONDARY, {"probes": []})


def test_the_writer_name_must_lead_to_the_writer(harness: DrillHarness) -> None:
    target = target_from_outputs(harness.seeded.outputs)
    assert target.dns is not None
    led_to_reader = {
        "store": "aurora",
        "name": target.dns.writer_name,
        "address": ADDRESS[SECONDARY],
        "ok": True,
        "detail": "reader",
    }
    ctx = SimpleNamespace(
        target=target,
        probe_invoker=lambda region, event: {"results": [led_to_reader]},
        journal=SimpleNamespace(data={"sandbox": True}),
        state={},
    )
    (check,) = app_name_checks(ctx, PRIMARY, (PRIMARY,))
    assert not check.ok and check.blocking
    assert f"{target.dns.writer_name} -> 127.0.2.1 reached a reader, not the writer" in check.detail


def test_in_the_sandbox_every_name_is_reached_over_tls_with_authentication(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    target = target_from_outputs(real_harness.seeded.outputs)
    assert target.dns is not None
    probes = application_probes(target, PRIMARY)
    names = [p["name"] for p in probes]
    zone = target.dns.writer_name.split(".", 1)[1]
    assert names == [
        f"writer.{zone}",
        f"reader-{PRIMARY}.{zone}",
        f"reader-{SECONDARY}.{zone}",
        f"cache.{zone}",
    ]
    env = real_harness.env()
    env.probe_invoker = region_pair_invoker(region_pair)
    # dynamodb-evacuation moves no server: the precondition is what is measured here
    result = start_drill(real_harness.stack, "dynamodb-evacuation", env)
    assert result.succeeded, result.reason
    checks = {c["name"]: c for c in result.preconditions if c["name"].startswith("app-names")}
    assert set(checks) == {f"app-names-{PRIMARY}", f"app-names-{SECONDARY}"}
    for check in checks.values():
        assert check["ok"], check
        # each name led to its region's server, the writer's to the writer
        assert f"writer.{zone} -> {ADDRESS[PRIMARY]} (writer" in check["detail"]
        assert f"reader-{SECONDARY}.{zone} -> {ADDRESS[SECONDARY]} (reader" in check["detail"]
        assert f"cache.{zone} -> {ADDRESS[PRIMARY]} (PONG" in check["detail"]


def test_verify_full_refuses_a_certificate_that_does_not_name_the_endpoint(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    target = target_from_outputs(real_harness.seeded.outputs)
    (writer, *_rest, cache) = application_probes(target, PRIMARY)
    # the certificate names the AWS endpoints; a client that checks another name must refuse
    wrong = [{**writer, "tlsName": "other.example"}, {**cache, "tlsName": "other.example"}]
    answer = region_pair_invoker(region_pair)(PRIMARY, {"probes": wrong})
    outcomes = answer["results"]
    assert [o["ok"] for o in outcomes] == [False, False]
    assert all("other.example" in o["error"] for o in outcomes), outcomes
    assert outcomes[0]["address"] == ADDRESS[PRIMARY]  # resolved, then refused at TLS


def test_the_handler_refuses_an_event_it_was_not_built_for() -> None:
    from components.functions.drill_probe import ProbeEventError

    class NoSecrets:
        def aurora(self) -> dict[str, Any]:
            raise AssertionError("read before the event was checked")

        def cache_token(self) -> str | None:
            raise AssertionError("read before the event was checked")

    cases = [
        ({"probes": []}, "probes has value []"),
        ({"probes": [{"store": "dynamodb"}]}, "probes[0].store has value 'dynamodb'"),
        (
            {"probes": [{"store": "cache", "name": "c", "tlsName": "t", "port": 70000}]},
            "probes[0].port has value 70000; allowed: 1-65535",
        ),
        (
            {"probes": [{"store": "cache", "name": "c", "tlsName": "t", "port": 6379, "key": "x"}]},
            "probes[0].key has value 'x'; allowed: a key starting 'drill:'",
        ),
    ]
    for event, message in cases:
        with pytest.raises(ProbeEventError, match=re.escape(message)):
            run_probes(event, NoSecrets())
