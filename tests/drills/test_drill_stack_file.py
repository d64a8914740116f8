"""The stack-file notice of a region swap: printed only when the CLI rewrote the tracked file
(issue 21's sandbox rough edge: the stand-in keeps config in its backend, so nothing changed
on disk and there is nothing to commit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drills.reconcile_steps import set_regions

STACK_FILE = (
    "config:\n"
    "  securecart-data:environment: dev\n"
    "  securecart-data:primaryRegion: {primary}\n"
    "  securecart-data:secondaryRegion: {secondary}\n"
)


class _Reconciler:
    """Keeps the region pair; ``rewrites``: like the CLI, writes it into the stack file."""

    def __init__(self, work_dir: Path, rewrites: bool) -> None:
        self.work_dir = work_dir
        self.stack_name = "dev"
        self.rewrites = rewrites
        self.pair = ("us-east-1", "us-west-2")
        self._write()

    def _write(self) -> None:
        path = self.work_dir / "stacks" / "Pulumi.dev.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STACK_FILE.format(primary=self.pair[0], secondary=self.pair[1]))

    def regions(self) -> tuple[str, str]:
        return self.pair

    def set_regions(self, primary: str, secondary: str) -> None:
        self.pair = (primary, secondary)
        if self.rewrites:
            self._write()


class _Ctx:
    def __init__(self, reconciler: _Reconciler) -> None:
        self.reconciler = reconciler
        self.state: dict[str, Any] = {}
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def event(self, kind: str, message: str, **data: Any) -> None:
        self.events.append((kind, message, data))


def test_the_commit_notice_comes_only_with_a_rewritten_stack_file(tmp_path: Path) -> None:
    rewritten = _Ctx(_Reconciler(tmp_path / "cli", rewrites=True))
    set_regions(rewritten, "us-west-2", "us-east-1", "phase switch")  # type: ignore[arg-type]
    [(kind, message, data)] = rewritten.events
    assert kind == "stack-file"
    assert "commit it (git add stacks/Pulumi.dev.yaml && git commit)" in message
    assert "+  securecart-data:primaryRegion: us-west-2" in data["diff"]
    assert rewritten.state["stack_file_changes"][0]["file_rewritten"] is True

    kept = _Ctx(_Reconciler(tmp_path / "standin", rewrites=False))
    set_regions(kept, "us-west-2", "us-east-1", "phase switch")  # type: ignore[arg-type]
    [(kind, message, _)] = kept.events
    assert kind == "config"
    assert "commit" not in message.replace("nothing to commit", "")
    assert "primaryRegion us-east-1 -> us-west-2" in message
    assert "stacks/Pulumi.dev.yaml unchanged" in message
    assert kept.state["stack_file_changes"][0]["file_rewritten"] is False


def test_no_event_when_the_pair_is_already_set(tmp_path: Path) -> None:
    ctx = _Ctx(_Reconciler(tmp_path, rewrites=True))
    set_regions(ctx, "us-east-1", "us-west-2", "rollback")  # type: ignore[arg-type]
    assert ctx.events == [] and "stack_file_changes" not in ctx.state
