"""What a preview imports: the program's components, not the code of the functions they
package. The drill-probe function vendors redis and pg8000 (0.8 s to import); a preview that
imported them paid for a function no stack builds by default (issue 22, the import floor)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_program_imports_no_function_clients() -> None:
    probe = (
        "import sys, components.data_tier\n"
        "print(sorted(m for m in ('redis', 'pg8000', 'scramp') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
