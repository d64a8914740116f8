"""``python -m preflight``: the offline ``pulumi preview --policy-pack policies``.

Exit codes: 0 the preview would go ahead; 1 a mandatory policy was violated (the preview would
be blocked); 2 bad configuration (stack config, ``--set``, policy config or options; the message
names the key); 3 preflight itself failed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
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

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help=__doc__,
    no_args_is_help=False,
)


@app.command()
def preflight(
    stack: Annotated[
        str,
        typer.Option(
            "--stack", "-s", metavar="NAME", help="Stack to preview: stacks/Pulumi.<stack>.yaml."
        ),
    ] = "dev",
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json", metavar="FILE", help="Write the plan, diagnostics and critical path as JSON."
        ),
    ] = None,
    graph_file: Annotated[
        Path | None,
        typer.Option(
            "--graph",
            metavar="FILE",
            help="Write the dependency graph: .dot (Graphviz) or .mmd (Mermaid).",
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override config for a what-if run, like 'pulumi config set --path' "
            "(repeatable): --set primaryRegion=us-west-2 --set secondaryRegion=us-east-1.",
        ),
    ] = None,
    policy_pack: Annotated[
        Path | None,
        typer.Option(
            "--policy-pack",
            metavar="DIR",
            show_default="policies",
            help="Policy pack directory.",
        ),
    ] = None,
    policy_config: Annotated[
        Path | None,
        typer.Option(
            "--policy-config",
            metavar="FILE",
            show_default="stacks/policy-config.<stack>.json",
            help="Policy config (enforcement levels and thresholds).",
        ),
    ] = None,
    root: Annotated[
        Path,
        typer.Option(
            "--root",
            metavar="DIR",
            show_default="this repository",
            help="Project root holding Pulumi.yaml, __main__.py and stacks/.",
        ),
    ] = REPO,
) -> None:
    """Preview a stack offline: record the program, run the policy pack, plan the deploy.

    Exit codes: 0 ok, 1 a mandatory policy is violated (the preview would be blocked),
    2 bad configuration (the message names the key), 3 preflight itself failed.
    """
    raise typer.Exit(
        run(
            stack,
            json_file=json_file,
            graph_file=graph_file,
            overrides=overrides or [],
            policy_pack=policy_pack,
            policy_config=policy_config,
            root=root,
        )
    )


def run(
    stack: str,
    *,
    json_file: Path | None = None,
    graph_file: Path | None = None,
    overrides: Sequence[str] = (),
    policy_pack: Path | None = None,
    policy_config: Path | None = None,
    root: Path = REPO,
    console: Console | None = None,
    err_console: Console | None = None,
    recorder: Recorder | None = None,
    server_factory: ServerFactory | None = None,
) -> int:
    """The command's body: prints the report and returns the exit code.

    ``recorder`` and ``server_factory`` replace the real ones in tests (see ``run_preflight``).
    """
    from preflight.graph import GraphFormatError, graph_format
    from preflight.report import make_console

    out = console or make_console()
    err = err_console or make_console(stderr=True)
    try:
        if graph_file is not None:
            graph_format(graph_file)
        result = run_preflight(
            stack,
            overrides=parse_overrides(overrides),
            root=root,
            policy_pack=policy_pack,
            policy_config=policy_config,
            recorder=recorder,
            server_factory=server_factory,
        )
    except GraphFormatError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_CONFIG
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
    return report(result, json_file, graph_file, out)


def report(
    result: PreflightResult, json_file: Path | None, graph_file: Path | None, out: Console
) -> int:
    """Print the report, write the requested files, and return the exit code."""
    from preflight.graph import write_graph
    from preflight.jsonout import write_json
    from preflight.report import render

    render(result, out)
    if json_file is not None:
        write_json(result, json_file)
        out.print(f"[dim]wrote {escape(str(json_file))}[/]")
    if graph_file is not None:
        write_graph(result.recording, graph_file, result.critical_path)
        out.print(f"[dim]wrote {escape(str(graph_file))}[/]")
    return EXIT_BLOCKED if result.blocked else EXIT_OK


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m preflight``."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="python -m preflight")


__all__ = [
    "EXIT_BLOCKED",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "PreflightConfigError",
    "app",
    "main",
    "run",
]
