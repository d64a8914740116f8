"""The Markdown report fits a GitHub pull-request comment (65,536 characters); when it would not,
the full report is written beside it for the run's artifact."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.markdown import COMMENT_LIMIT, fit, full_report_path, render_markdown, write_markdown
from preflight.pipeline import PreflightResult, run_preflight


@pytest.fixture(scope="module")
def prod() -> PreflightResult:
    return run_preflight("prod")


def test_the_limit_is_githubs() -> None:
    assert COMMENT_LIMIT == 65_536


def test_a_report_that_fits_is_written_whole(prod: PreflightResult, tmp_path: Path) -> None:
    path = tmp_path / "prod.md"
    stale = full_report_path(path)
    stale.write_text("from an earlier run")
    write_markdown(prod, path)
    assert path.read_text() == render_markdown(prod)
    assert len(path.read_text()) <= COMMENT_LIMIT
    assert not stale.exists()


def test_a_long_report_is_cut_to_the_limit_with_the_full_one_beside_it(
    prod: PreflightResult, tmp_path: Path
) -> None:
    whole = render_markdown(prod)
    limit = len(whole) // 3
    path = tmp_path / "prod.md"
    write_markdown(prod, path, limit=limit)
    cut = path.read_text()
    assert len(cut) <= limit
    assert full_report_path(path).read_text() == whole
    assert full_report_path(path).name == "prod.full.md"
    assert cut.rstrip().endswith("next to this file in the run's artifacts.")
    assert "`prod.full.md`" in cut and f"({len(whole):,} characters)" in cut
    assert cut.count("<details>") == cut.count("</details>")
    # what is kept is the report's beginning, up to a line, before the closing tags and the note
    kept = cut[: cut.index("\n> ✂️")]
    while kept.endswith("\n</details>\n") and not whole.startswith(kept):
        kept = kept.removesuffix("\n</details>\n")
    assert whole.startswith(kept) and kept.endswith("\n") and len(kept) > limit // 2


def test_fit_closes_open_details_and_cuts_at_a_line() -> None:
    text = "## title\n\n<details><summary>x</summary>\n\n" + "".join(
        f"| row {i} | {'x' * 40} |\n" for i in range(200)
    )
    cut = fit(text, 1000, "r.full.md")
    assert len(cut) <= 1000
    assert cut.count("<details>") == 1 and cut.count("</details>") == 1
    kept = cut[: cut.index("\n</details>")]
    assert text.startswith(kept) and kept.endswith("|\n")
    assert fit("short\n", 1000, "r.full.md") == "short\n"
