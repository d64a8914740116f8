"""Graphviz DOT and Mermaid writers on hand-built recordings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from preflight_fakes import Builder, global_database

from preflight.graph import GraphFormatError, graph_format, render_graph, write_graph


def _recording(builder: Builder):
    top = builder.add("securecart:index:DataTier", "data", region=None)
    db = global_database(builder, parent=top)
    zone = builder.add("aws:route53/zone:Zone", 'zone "quoted"', parent=top, region=None)
    return builder.recording(), db, zone


def _dot_ids(text: str) -> dict[str, str]:
    """node label's first line -> node id."""
    return {
        m.group(2): m.group(1) for m in re.finditer(r'^\s*(n\d+) \[label="(.*?)\\n', text, re.M)
    }


def test_dot_has_a_cluster_per_region_and_every_dependency(builder: Builder) -> None:
    recording, _db, _zone = _recording(builder)
    text = render_graph(recording, "dot")

    assert text.startswith('digraph "securecart-data/test" {')
    regions = re.findall(r'subgraph "cluster_\d+" \{\n\s*label="([^"]+)";\n\s*style=bold;', text)
    assert regions == ["us-east-1", "us-west-2", "global"]
    assert 'label="data (securecart:index:DataTier)"' in text

    ids = _dot_ids(text)
    assert len(ids) == 8  # every planned resource once; no provider, no component node
    edges = set(re.findall(r"^\s*(n\d+) -> (n\d+)", text, re.M))
    assert (ids["aurora-us-east-1-1"], ids["aurora-us-west-2"]) in edges
    assert (ids["aurora-global"], ids["aurora-us-east-1"]) in edges
    assert (ids["aurora-key"], ids["aurora-us-east-1"]) in edges
    assert len(edges) == 7
    # the critical path is red
    assert f"{ids['aurora-us-east-1-1']} -> {ids['aurora-us-west-2']} [color=" in text
    assert f"{ids['aurora-key']} -> {ids['aurora-us-east-1']};" in text
    # quotes in names are escaped
    assert r'label="zone \"quoted\"\naws:route53/zone:Zone"' in text
    assert text.count("{") == text.count("}")


def test_mermaid_has_a_subgraph_per_region_and_every_dependency(builder: Builder) -> None:
    recording, _db, _zone = _recording(builder)
    text = render_graph(recording, "mermaid")

    assert "flowchart LR" in text
    assert re.findall(r'subgraph g\d+\["([^"]+)"\]\n\s+subgraph', text) == [
        "us-east-1",
        "us-west-2",
        "global",
    ]
    assert text.count("subgraph ") == text.count("\n    end") + text.count("\n  end")
    nodes = dict(re.findall(r'^\s*(n\d+)\["([^<]+)<br/>', text, re.M))
    assert sorted(nodes.values()) == sorted(
        [
            "aurora-global",
            "aurora-key",
            "aurora-us-east-1",
            "aurora-us-east-1-1",
            "aurora-us-east-1-2",
            "aurora-us-west-2",
            "aurora-us-west-2-1",
            "zone #quot;quoted#quot;",
        ]
    )
    edges = re.findall(r"^\s*(n\d+) --> (n\d+)$", text, re.M)
    assert len(edges) == 7
    critical = re.search(r"linkStyle ([\d,]+) stroke", text)
    assert critical is not None and len(critical.group(1).split(",")) == 4
    assert re.search(r"class (n\d+,){4}n\d+ critical", text)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("g.dot", "dot"), ("g.gv", "dot"), ("g.mmd", "mermaid"), ("G.MERMAID", "mermaid")],
)
def test_format_follows_the_extension(name: str, fmt: str) -> None:
    assert graph_format(Path(name)) == fmt


def test_unknown_extension_is_refused(builder: Builder, tmp_path: Path) -> None:
    with pytest.raises(GraphFormatError, match=r"\.png"):
        write_graph(builder.recording(), tmp_path / "graph.png")


def test_write_graph_creates_the_file(builder: Builder, tmp_path: Path) -> None:
    recording, _db, _zone = _recording(builder)
    out = tmp_path / "deep" / "graph.mmd"
    write_graph(recording, out)
    assert out.read_text(encoding="utf-8").startswith("---\ntitle: securecart-data/test")
