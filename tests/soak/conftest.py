"""`make soak`: the long runs, selected with `-m soak` (the default run leaves them out, see pyproject.toml).
Each test records its figures with `soak_figures`; they are printed as one table at the end of the run."""
from __future__ import annotations

import pytest

FIGURES: dict[str, dict] = {}


@pytest.fixture
def soak_figures(request) -> dict:
    """Store this run's figures here (name → value); printed under the test's name at the end."""
    return FIGURES.setdefault(request.node.name, {})


def pytest_terminal_summary(terminalreporter):
    runs = {name: figures for name, figures in FIGURES.items() if figures}
    if not runs:
        return
    terminalreporter.section("soak figures")
    for name, figures in runs.items():
        terminalreporter.write_line(f"\n{name}\n")
        terminalreporter.write_line("| figure | value |\n|---|---:|")
        for key, value in figures.items():
            terminalreporter.write_line(f"| {key} | {value} |")
