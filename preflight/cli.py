"""``python -m preflight``: the offline ``pulumi preview --policy-pack policies``.

Exit codes: 0 the preview would go ahead; 1 blocked: a mandatory policy was violated or (with
``--against``) a stateful resource would be replaced or deleted without ``--allow-replace``;
2 bad configuration (stack config, ``--set``, policy config, baseline or options; the message
names the key or file); 3 preflight itself failed, or an output file cannot be written.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from preflight.pipeline import (
    REPO,
    PreflightConfigError,
    PreflightResult,
    Recorder,
    ServerFactory,
    config_error_message,
    parse_overrides,
    run_preflight,
)

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_CONFIG = 2
EXIT_FAILED = 3

COMPLIANCE_FRAMEWORKS = ("pci-dss", "fsbp", "cis")
"""What ``--compliance`` accepts (policies/controls.py FRAMEWORK_FILES)."""


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m preflight``.

    argparse rather than typer (which the drills' CLI uses): typer 0.29 builds a pydantic
    ``TypeAdapter`` to coerce every option, and importing pydantic for it cost about a fifth of
    the main thread of a prod preview (py-spy, issue 22), for options that are all strings and
    paths.
    """
    result = argparse.ArgumentParser(
        prog="python -m preflight",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    option = result.add_argument
    option(
        "--stack",
        "-s",
        metavar="NAME",
        default="dev",
        help="Stack to preview: stacks/Pulumi.<stack>.yaml (default: dev).",
    )
    option(
        "--json",
        dest="json_file",
        metavar="FILE",
        type=Path,
        help="Write the plan, diagnostics and critical path as JSON.",
    )
    option(
        "--graph",
        dest="graph_file",
        metavar="FILE",
        type=Path,
        help="Write the dependency graph: .dot (Graphviz) or .mmd (Mermaid).",
    )
    option(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="Override config for a what-if run, like 'pulumi config set --path' "
        "(repeatable): --set primaryRegion=us-west-2 --set secondaryRegion=us-east-1.",
    )
    option(
        "--policy-pack", metavar="DIR", type=Path, help="Policy pack directory (default: policies)."
    )
    option(
        "--policy-config",
        metavar="FILE",
        type=Path,
        help="Policy config (enforcement levels and thresholds; default:"
        " stacks/policy-config.<stack>.json).",
    )
    option(
        "--root",
        metavar="DIR",
        type=Path,
        default=REPO,
        help="Project root holding Pulumi.yaml, __main__.py and stacks/ (default: this"
        " repository).",
    )
    option(
        "--against",
        metavar="BASELINE.json",
        type=Path,
        help="Diff the plan with a baseline an earlier --json run wrote (e.g. on the"
        " base branch): create, update, replace, delete per resource.",
    )
    option(
        "--allow-replace",
        metavar="URN|NAME",
        action="append",
        default=[],
        help="Approve the replacement or deletion of this stateful resource (repeatable);"
        " without it such a change blocks the preview.",
    )
    option(
        "--markdown",
        dest="markdown_file",
        metavar="FILE",
        type=Path,
        help="Write a compact Markdown report (PR comment, GitHub job summary).",
    )
    option(
        "--compliance",
        metavar="FRAMEWORK",
        help="Report every control of a framework for the stack: pci-dss, fsbp or cis"
        " (also under 'compliance' in --json and as a --markdown section).",
    )
    option(
        "--drill-reports",
        metavar="DIR",
        type=Path,
        help="Where drill reports are (<DIR>/<drill id>/report.json; default: .drills under"
        " --root): the latest one of the stack is the evidence for DR testing"
        " (PCI DSS 12.10.2).",
    )
    return result


class OutputError(Exception):
    """An output file cannot be written; the message is one line naming option and path."""


@dataclass(frozen=True, slots=True)
class Output:
    """One file the run was asked to write."""

    option: str
    path: Path
    write: Callable[..., None]

    def check(self) -> None:
        """Fail now, before anything runs, if the file cannot be written.

        Opens it for appending (creating the parent directories, as the writers do) and
        removes it again when this created it, so a run that fails later leaves nothing.
        """
        existed = self.path.exists()
        blocker = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise OutputError(
                f"cannot write {self.option} {self.path}: {blocker} is a file, not a directory"
            )
        try:
            if self.path.is_dir():
                raise IsADirectoryError(21, "Is a directory")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise OutputError(self._message(exc)) from exc
        if not existed:
            self.path.unlink(missing_ok=True)

    def save(self, result: PreflightResult, compliance: Any = None) -> None:
        """Write the file (with the compliance report, when there is one), or raise
        ``OutputError``."""
        try:
            if compliance is not None and self.option in ("--json", "--markdown"):
                self.write(result, self.path, compliance)
            else:
                self.write(result, self.path)
        except OSError as exc:
            raise OutputError(self._message(exc)) from exc

    def _message(self, exc: OSError) -> str:
        reason = exc.strerror or str(exc)
        return f"cannot write {self.option} {self.path}: {reason}"


def _write_json(result: PreflightResult, path: Path, compliance: Any = None) -> None:
    from preflight.jsonout import write_json

    if compliance is None:
        write_json(result, path)
    else:
        write_json(result, path, compliance=compliance)


def _write_graph(result: PreflightResult, path: Path) -> None:
    from preflight.graph import write_graph

    write_graph(result.recording, path, result.critical_path)


def _write_markdown(result: PreflightResult, path: Path, compliance: Any = None) -> None:
    from preflight.markdown import write_markdown

    if compliance is None:
        write_markdown(result, path)
    else:
        write_markdown(result, path, compliance=compliance)


def _import_writers() -> None:
    """Import the report and the writers; ``run_preflight`` calls this while it waits for the
    pack's ``AnalyzeStack``, so the imports cost no wall time."""
    import preflight.graph
    import preflight.jsonout
    import preflight.markdown
    import preflight.report  # noqa: F401


def _outputs(
    json_file: Path | None, graph_file: Path | None, markdown_file: Path | None
) -> list[Output]:
    wanted = [
        ("--json", json_file, _write_json),
        ("--graph", graph_file, _write_graph),
        ("--markdown", markdown_file, _write_markdown),
    ]
    return [Output(option, path, write) for option, path, write in wanted if path is not None]


def _distinct(outputs: Sequence[Output]) -> None:
    """Two outputs to one file would overwrite each other: refuse it before anything runs."""
    seen: dict[Path, str] = {}
    for output in outputs:
        target = output.path.resolve()
        if target in seen:
            raise PreflightConfigError(
                f"{seen[target]} and {output.option} both write {output.path}: give each its own file"
            )
        seen[target] = output.option


def run(
    stack: str,
    *,
    json_file: Path | None = None,
    graph_file: Path | None = None,
    markdown_file: Path | None = None,
    overrides: Sequence[str] = (),
    policy_pack: Path | None = None,
    policy_config: Path | None = None,
    root: Path = REPO,
    against: Path | None = None,
    allow_replace: Sequence[str] = (),
    compliance: str | None = None,
    drill_reports: Path | None = None,
    console: Console | None = None,
    err_console: Console | None = None,
    recorder: Recorder | None = None,
    server_factory: ServerFactory | None = None,
) -> int:
    """The command's body: prints the report and returns the exit code.

    ``recorder`` and ``server_factory`` replace the real ones in tests (see ``run_preflight``).
    """
    from preflight.console import make_console
    from preflight.graph import GraphFormatError, graph_format

    out = console or make_console()
    err = err_console or make_console(stderr=True)
    outputs = _outputs(json_file, graph_file, markdown_file)
    try:
        if not root.is_dir():
            raise PreflightConfigError(f"--root {root}: no such directory")
        if not (root / "Pulumi.yaml").is_file():
            raise PreflightConfigError(f"--root {root}: no Pulumi.yaml (not a Pulumi project)")
        if graph_file is not None:
            graph_format(graph_file)
        if compliance is not None and compliance not in COMPLIANCE_FRAMEWORKS:
            raise PreflightConfigError(
                f"--compliance {compliance!r}: unknown framework; allowed: "
                + ", ".join(COMPLIANCE_FRAMEWORKS)
            )
        _distinct(outputs)
        for output in outputs:
            output.check()
        result = run_preflight(
            stack,
            overrides=parse_overrides(overrides),
            root=root,
            policy_pack=policy_pack,
            policy_config=policy_config,
            against=against,
            allow_replace=allow_replace,
            recorder=recorder,
            server_factory=server_factory,
            while_analyzing=_import_writers,
        )
    except GraphFormatError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_CONFIG
    except OutputError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_FAILED
    except Exception as exc:
        message = config_error_message(exc)
        if message is not None:
            err.print(f"[bold red]config error:[/] {escape(message)}", soft_wrap=True)
            return EXIT_CONFIG
        err.print(
            f"[bold red]preflight failed:[/] {escape(type(exc).__name__)}: {escape(str(exc))}",
            soft_wrap=True,
        )
        return EXIT_FAILED
    report_of = None
    if compliance is not None:
        from preflight.compliance import build_report

        report_of = build_report(
            result,
            compliance,
            drill_reports=drill_reports if drill_reports is not None else root / ".drills",
        )
    try:
        return report(result, out, outputs, compliance=report_of)
    except OutputError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_FAILED


def report(
    result: PreflightResult,
    out: Console,
    outputs: Sequence[Output] = (),
    *,
    json_file: Path | None = None,
    graph_file: Path | None = None,
    markdown_file: Path | None = None,
    compliance: Any = None,
) -> int:
    """Write the requested files, then print the report; return the exit code.

    The files come first so that a file that cannot be written (``OutputError``) stops the
    run before a verdict is printed.
    """
    from preflight.report import render

    files = [*outputs, *_outputs(json_file, graph_file, markdown_file)]
    for output in files:
        output.save(result, compliance)
    render(result, out)
    if compliance is not None:
        from preflight.report import render_compliance

        render_compliance(compliance, out)
    for output in files:
        out.print(f"[dim]wrote {escape(str(output.path))}[/]")
    return EXIT_BLOCKED if result.blocked else EXIT_OK


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m preflight``.

    The cyclic garbage collector is off for the run and everything is frozen before exit:
    the run allocates a few hundred thousand long-lived objects (pulumi_aws's classes, the
    program's Outputs) and frees almost nothing, so the collector's passes found nothing to
    free and cost about a third of the wall time, and the collection at interpreter exit
    another 0.4 s (measured in ``make bench``). Memory stays where it was (about 150 MB).
    """
    gc.disable()
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        args = parser().parse_args(argv if argv is not None else sys.argv[1:])
        raise SystemExit(run(**vars(args)))
    finally:
        signal.signal(signal.SIGTERM, previous)
        gc.freeze()


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C does (SIGINT raises KeyboardInterrupt): the ``with`` blocks
    run, so the policy server is stopped and reaped before preflight exits (128 + 15, as a
    shell reports a process killed by SIGTERM). A SIGKILL skips this; the pack then stops on
    its own when its stdin lifeline closes (policies/_parent_watch.py)."""
    raise SystemExit(128 + signum)


__all__ = [
    "EXIT_BLOCKED",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "Output",
    "OutputError",
    "PreflightConfigError",
    "main",
    "parser",
    "run",
]
