"""mypy's error count on server, agenda and recorder may only go down (.ci/mypy-baseline)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".ci" / "mypy-baseline"


def mypy_errors() -> list[str]:
    # The configuration, and the cache under build/, come from pyproject.toml.
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "server", "agenda", "recorder"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr
    return [line for line in run.stdout.splitlines() if re.search(r": error: ", line)]


@pytest.mark.timeout(660)
def test_mypy_error_count_only_goes_down():
    allowed = int(BASELINE.read_text())
    errors = mypy_errors()
    assert len(errors) <= allowed, (
        f"mypy finds {len(errors)} errors, {BASELINE.name} allows {allowed}:\n" + "\n".join(errors)
    )
    assert len(errors) == allowed, (
        f"mypy finds {len(errors)} errors, fewer than {allowed}: "
        f"write {len(errors)} into .ci/{BASELINE.name}"
    )
