"""``--graph FILE``: the planned resources and their dependencies as Graphviz DOT or Mermaid.

The format follows the file's extension (``.dot``/``.gv`` -> DOT, ``.mmd``/``.mermaid`` ->
Mermaid). Regions are clusters (subgraphs), with the components inside each region nested in
them; regionless resources sit in a ``global`` cluster. An edge ``a -> b`` means ``b`` waits for
``a`` (see ``preflight.critical_path.plan_dependencies``); the deploy critical path is drawn in
red.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from preflight.critical_path import (
    GLOBAL,
    CriticalPath,
    ancestors,
    critical_path,
    is_plan_resource,
    plan_dependencies,
    region_label,
)
from preflight.model import Recording

FORMATS = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}
"""File extension -> graph format."""

CRITICAL_COLOR = "#d62728"


class GraphFormatError(ValueError):
    """The ``--graph`` file has an extension no writer handles."""


@dataclass(slots=True)
class _Cluster:
    """A region or a component (within one region) and what is drawn inside it."""

    label: str
    nodes: list[str] = field(default_factory=list)
    children: dict[str, _Cluster] = field(default_factory=dict)


@dataclass(slots=True)
class _Graph:
    ids: dict[str, str]
    """URN -> node id."""
    labels: dict[str, tuple[str, str]]
    """URN -> (name, type)."""
    regions: dict[str, _Cluster]
    edges: list[tuple[str, str]]
    critical_nodes: set[str]
    critical_edges: set[tuple[str, str]]


def graph_format(path: Path) -> str:
    """``"dot"`` or ``"mermaid"`` for ``path``'s extension."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        allowed = ", ".join(sorted(FORMATS))
        raise GraphFormatError(f"--graph {path}: unknown extension, use one of {allowed}") from None


def write_graph(recording: Recording, path: Path, path_info: CriticalPath | None = None) -> None:
    """Write ``recording``'s dependency graph to ``path`` in the format its extension names."""
    text = render_graph(recording, graph_format(path), path_info)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render_graph(recording: Recording, fmt: str, path_info: CriticalPath | None = None) -> str:
    """The dependency graph as text, ``fmt`` being ``"dot"`` or ``"mermaid"``."""
    graph = _build(recording, path_info if path_info is not None else critical_path(recording))
    title = f"{recording.project}/{recording.stack}"
    if fmt == "dot":
        return "\n".join(_dot(graph, title)) + "\n"
    if fmt == "mermaid":
        return "\n".join(_mermaid(graph, title)) + "\n"
    raise GraphFormatError(f"unknown graph format {fmt!r}: use dot or mermaid")


def _build(recording: Recording, path_info: CriticalPath) -> _Graph:
    by_urn = {r.urn: r for r in recording.resources}
    planned = [r for r in recording.resources if is_plan_resource(r)]
    ids = {r.urn: f"n{i}" for i, r in enumerate(planned)}
    regions: dict[str, _Cluster] = {}
    for r in planned:
        region = region_label(r)
        cluster = regions.setdefault(region, _Cluster(region))
        for component in ancestors(r, by_urn):
            owner = by_urn[component]
            if owner.type == "pulumi:pulumi:Stack":
                continue
            label = f"{owner.name} ({owner.type})"
            cluster = cluster.children.setdefault(component, _Cluster(label))
        cluster.nodes.append(r.urn)
    deps = plan_dependencies(recording)
    order = {urn: i for i, urn in enumerate(ids)}
    edges = sorted(
        ((dep, urn) for urn, ds in deps.items() for dep in ds),
        key=lambda edge: (order[edge[0]], order[edge[1]]),
    )
    on_path = path_info.urns
    return _Graph(
        ids=ids,
        labels={r.urn: (r.name, r.type) for r in planned},
        regions=dict(sorted(regions.items(), key=lambda kv: (kv[0] == GLOBAL, kv[0]))),
        edges=edges,
        critical_nodes=set(on_path),
        critical_edges=set(pairwise(on_path)),
    )


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot(graph: _Graph, title: str) -> Iterator[str]:
    yield f"digraph {_dot_quote(title)} {{"
    yield f"  graph [rankdir=LR, compound=true, fontname=Helvetica, label={_dot_quote(title)}];"
    yield '  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica, fontsize=10];'
    yield "  edge [color=gray40];"
    counter = iter(range(1_000_000))

    def cluster(c: _Cluster, depth: int) -> Iterator[str]:
        pad = "  " * depth
        yield f"{pad}subgraph {_dot_quote(f'cluster_{next(counter)}')} {{"
        yield f"{pad}  label={_dot_quote(c.label)};"
        yield f"{pad}  style={'bold' if depth == 1 else 'rounded'};"
        for urn in c.nodes:
            name, type_ = graph.labels[urn]
            attrs = "label=" + _dot_quote(name + "\n" + type_)
            if urn in graph.critical_nodes:
                attrs += f', color="{CRITICAL_COLOR}", penwidth=2'
            yield f"{pad}  {graph.ids[urn]} [{attrs}];"
        for child in c.children.values():
            yield from cluster(child, depth + 1)
        yield f"{pad}}}"

    for region in graph.regions.values():
        yield from cluster(region, 1)
    for src, dst in graph.edges:
        attrs = (
            f' [color="{CRITICAL_COLOR}", penwidth=2]' if (src, dst) in graph.critical_edges else ""
        )
        yield f"  {graph.ids[src]} -> {graph.ids[dst]}{attrs};"
    yield "}"


def _mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label (quotes and angle brackets as entity codes)."""
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _mermaid(graph: _Graph, title: str) -> Iterator[str]:
    yield "---"
    yield f"title: {_mermaid_text(title)}"
    yield "---"
    yield "flowchart LR"
    counter = iter(range(1_000_000))

    def subgraph(c: _Cluster, depth: int) -> Iterator[str]:
        pad = "  " * depth
        yield f'{pad}subgraph g{next(counter)}["{_mermaid_text(c.label)}"]'
        for urn in c.nodes:
            name, type_ = graph.labels[urn]
            label = f"{_mermaid_text(name)}<br/><small>{_mermaid_text(type_)}</small>"
            yield f'{pad}  {graph.ids[urn]}["{label}"]'
        for child in c.children.values():
            yield from subgraph(child, depth + 1)
        yield f"{pad}end"

    for region in graph.regions.values():
        yield from subgraph(region, 1)
    critical_links: list[int] = []
    for index, (src, dst) in enumerate(graph.edges):
        yield f"  {graph.ids[src]} --> {graph.ids[dst]}"
        if (src, dst) in graph.critical_edges:
            critical_links.append(index)
    if graph.critical_nodes:
        yield f"  classDef critical stroke:{CRITICAL_COLOR},stroke-width:3px"
        yield (
            "  class " + ",".join(sorted(graph.ids[u] for u in graph.critical_nodes)) + " critical"
        )
    if critical_links:
        yield (
            "  linkStyle "
            + ",".join(map(str, critical_links))
            + f" stroke:{CRITICAL_COLOR},stroke-width:3px"
        )
