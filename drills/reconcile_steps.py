"""Bringing the Pulumi stack in line after a phase moved the writers (Automation API).

``up`` never runs without a preview in the same process: the step that applies previews first
and refuses on a stateful replace/delete or a mandatory policy, so a resumed drill previews
again before it applies. When the reconcile changes the stack config, the drill shows the change
of ``stacks/Pulumi.<stack>.yaml`` (the CLI rewrites that tracked file) and says it must be
committed: otherwise a later ``pulumi up`` from another checkout flips the regions back.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable

from .engine import DrillContext, Step
from .errors import DeferredError, DrillError, VerificationError
from .reads import describe_global_cluster, reachable, writer_regions


def stack_file_note(stack: str) -> str:
    """What the operator must do about the stack file after a region swap."""
    return (
        f"stacks/Pulumi.{stack}.yaml now names the new region pair: commit it "
        f"(git add stacks/Pulumi.{stack}.yaml && git commit), or a later `pulumi up` from "
        "another checkout moves the regions back"
    )


def require_stack_regions(ctx: DrillContext, what: str) -> None:
    """A Pulumi refresh, preview or up reads every resource of the stack, in both regions, and
    the anchor region (the provider's, holding the global cluster, the global datastore, the
    keys and secrets) above all: with a region not answering it cannot complete (issue 16
    item 9). Defer it (journaled) instead of starting an operation that would fail half-way;
    ``resume`` runs it once the region answers. The anchor is checked first."""
    anchor = str((ctx.state.get("config_origin") or [ctx.target.primary_region])[0])
    for region in dict.fromkeys((anchor, *ctx.target.regions)):
        if not reachable(ctx, region):
            ctx.mark_unreachable(region)
            ctx.event(
                "deferred",
                f"{what} deferred: {region}{' (the anchor region)' if region == anchor else ''} "
                "does not answer",
                region=region,
            )
            raise DeferredError(region, what)
        ctx.mark_reachable(region)


def _refresh(ctx: DrillContext) -> None:
    require_stack_regions(ctx, "pulumi refresh")
    record = ctx.reconciler.refresh()
    ctx.event("refresh", _changes(record.change_summary))


def _stack_file(ctx: DrillContext) -> str:
    path = ctx.reconciler.work_dir / "stacks" / f"Pulumi.{ctx.reconciler.stack_name}.yaml"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def set_regions(ctx: DrillContext, primary: str, secondary: str, why: str) -> None:
    """Set the region pair in the stack config and report the stack file's change."""
    before_file = _stack_file(ctx)
    before = ctx.reconciler.regions()
    if before == (primary, secondary):
        return
    ctx.reconciler.set_regions(primary, secondary)
    after_file = _stack_file(ctx)
    name = f"stacks/Pulumi.{ctx.reconciler.stack_name}.yaml"
    diff = "".join(
        difflib.unified_diff(
            before_file.splitlines(keepends=True),
            after_file.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
            n=0,
        )
    )
    change = {
        "why": why,
        "file": name,
        "before": list(before),
        "after": [primary, secondary],
        "diff": diff
        or (
            f"-securecart-data:primaryRegion: {before[0]}\n"
            f"+securecart-data:primaryRegion: {primary}\n"
            f"-securecart-data:secondaryRegion: {before[1]}\n"
            f"+securecart-data:secondaryRegion: {secondary}\n"
        ),
        "file_rewritten": bool(diff),
    }
    ctx.state.setdefault("stack_file_changes", []).append(change)
    if diff:  # the CLI rewrote the tracked stack file: the operator must commit it
        ctx.event(
            "stack-file",
            f"{why}: primaryRegion {before[0]} -> {primary}. "
            + stack_file_note(ctx.reconciler.stack_name),
            diff=change["diff"],
        )
        return
    # the backend keeps the config (a stand-in, or a stack whose config is not in the file):
    # nothing to commit, so no commit notice
    ctx.event(
        "config",
        f"{why}: primaryRegion {before[0]} -> {primary} in the stack config "
        f"({name} unchanged: nothing to commit)",
        diff=change["diff"],
    )


def _swap_config(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        run = ctx.phase_run(phase)
        set_regions(ctx, run.dst, run.src, f"phase {phase}")
        run.record["config_swapped"] = True

    return run


def clear_interrupted_up(ctx: DrillContext) -> None:
    """If the drill's own ``pulumi up`` never returned (journaled as started, not as ended: the
    drill died with its CLI), end the update that still holds the stack and clear the pending
    operations it left, before anything else asks Pulumi for the stack. Without such a journal
    entry a held stack is someone else's update and stays untouched (the next operation reports
    it busy)."""
    started = ctx.state.get("pulumi_up")
    if not started:
        return
    require_stack_regions(ctx, "clearing the interrupted pulumi up")
    record = ctx.reconciler.clear_interrupted_update(ours=True)
    ctx.state.pop("pulumi_up", None)
    found = [f"{s['op']} {s['urn'].rsplit('::', 1)[-1]}" for s in record.steps]
    ctx.state.setdefault("pulumi_recoveries", []).append(
        {"up_started": started, "at": time.time(), **record.change_summary, "pending_ops": found}
    )
    ctx.checkpoint()
    ctx.event(
        "pulumi-recovered",
        "the interrupted pulumi up of step "
        f"{started.get('step', '?')}: "
        + ("update cancelled (pulumi cancel)" if record.change_summary["cancelled"] else "no lock")
        + (
            f"; {len(found)} pending operation(s) cleared ({', '.join(found)}): a pending "
            "create dropped from the state may exist in AWS unmanaged"
            if found
            else "; no pending operations"
        ),
        pending=found,
    )


def _undo_config(ctx: DrillContext) -> None:
    """Put the region pair the drill started with back in the stack config and, if the deployed
    stack has another pair (read from its outputs, not the journal: a crash may have hidden an
    ``up``), preview and re-apply it in this process. An ``up`` that died with the drill is
    cleared first (its lock and pending operations)."""
    clear_interrupted_up(ctx)
    start = ctx.state.get("config_origin") or [
        ctx.state["origin"]["primary"],
        ctx.state["origin"]["secondary"],
    ]
    wanted = (str(start[0]), str(start[1]))
    set_regions(ctx, *wanted, why="rollback")
    outputs = ctx.reconciler.outputs()
    deployed = (outputs.get("primaryRegion"), outputs.get("secondaryRegion"))
    if deployed != wanted:
        require_stack_regions(ctx, "pulumi refresh and up of the rollback")
        ctx.reconciler.refresh()
        preview_and_up(ctx)
        ctx.event("config", "stack re-applied with the region pair the drill started with")


def _changes(summary: dict[str, int]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(summary.items())) or "no changes"


def _preview(ctx: DrillContext) -> None:
    require_stack_regions(ctx, "pulumi preview")
    record = ctx.reconciler.preview()
    ctx.event("preview", f"{_changes(record.change_summary)}; {len(record.policy)} policy findings")


def preview_and_up(ctx: DrillContext) -> None:
    """Preview (refusing unsafe changes, mandatory policy failures and anything beyond the
    region swap's own changes), then up, in one go."""
    outputs = ctx.reconciler.outputs()
    deployed = (str(outputs.get("primaryRegion", "")), str(outputs.get("secondaryRegion", "")))
    wanted = ctx.reconciler.regions()
    expected = ctx.reconciler.expected_changes(deployed, wanted)
    ctx.state["expected_changes"] = sorted([list(e) for e in expected])
    record = ctx.reconciler.preview(expected)
    ctx.event("preview", f"{_changes(record.change_summary)}; {len(record.policy)} policy findings")
    # journaled before the CLI starts: if the drill dies with it, rollback/resume know that the
    # lock and pending operations left on the stack are this drill's (clear_interrupted_up)
    ctx.state["pulumi_up"] = {"step": ctx.step_name, "started_at": time.time()}
    ctx.checkpoint()
    try:
        record, outputs = ctx.reconciler.up()
    except DrillError:  # the CLI exited on its own, releasing the stack
        ctx.state.pop("pulumi_up", None)
        raise
    ctx.state.pop("pulumi_up", None)
    ctx.state["outputs"] = outputs
    ctx.event("up", _changes(record.change_summary))


def _apply(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        require_stack_regions(ctx, "pulumi preview and up")
        clear_interrupted_up(ctx)  # a resume after the drill died during this very up
        preview_and_up(ctx)
        ctx.phase(phase)["up_done"] = True

    return run


def _verify_outputs(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        run = ctx.phase_run(phase)
        src, dst = run.src, run.dst
        outputs = ctx.reconciler.outputs()
        ctx.state["outputs"] = outputs
        problems: list[str] = []
        if outputs.get("primaryRegion") != dst or outputs.get("secondaryRegion") != src:
            problems.append(f"outputs say primary {outputs.get('primaryRegion')}, expected {dst}")
        if outputs.get("globalClusterId") not in (None, ctx.target.global_cluster_id):
            problems.append("globalClusterId changed")
        clusters = outputs.get("auroraClusters") or {}
        if set(clusters) and set(clusters) != {src, dst}:
            problems.append(f"auroraClusters regions {sorted(clusters)}")
        writers = writer_regions(describe_global_cluster(ctx, (dst, src)))
        if writers != [dst]:
            problems.append(f"Aurora writer in {writers}, expected {dst}")
        if problems:
            raise VerificationError("; ".join(problems))
        ctx.event("verified", f"stack outputs and AWS agree: primary {dst}", phase=phase)

    return run


def reconcile_steps(phase: str, prefix: str, kind: str) -> list[Step]:
    """``apply``: refresh, swap the region pair, preview and up, verify the outputs;
    ``check``: refresh and preview (nothing applied); ``refresh``; ``none``."""
    refresh = Step(f"{prefix}refresh", "pulumi refresh", _refresh, "reconcile", phase=phase)
    if kind == "none":
        return []
    if kind == "refresh":
        return [refresh]
    preview = Step(
        f"{prefix}preview",
        "pulumi preview with the policy pack (refuse stateful replace/delete)",
        _preview,
        "reconcile",
        phase=phase,
    )
    if kind == "check":
        return [refresh, preview]
    return [
        refresh,
        Step(
            f"{prefix}swap-config",
            "swap primaryRegion/secondaryRegion in the stack config",
            _swap_config(phase),
            "reconcile",
            undo=_undo_config,
            undo_order=1,
            phase=phase,
        ),
        Step(
            f"{prefix}up",
            "pulumi preview with the policy pack (refuse stateful replace/delete), then up",
            _apply(phase),
            "reconcile",
            phase=phase,
        ),
        Step(
            f"{prefix}verify-outputs",
            "verify stack outputs against AWS",
            _verify_outputs(phase),
            "verify",
            phase=phase,
        ),
    ]
