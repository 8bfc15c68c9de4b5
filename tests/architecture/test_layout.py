"""The layout the code keeps: stages import only downward with no circle (`.importlinter`, run by
`lint-imports`), and no product module grows past ~500 lines without saying why at its top."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 500
LONG_REASON = "Why this module is long:"


def _lint_imports(include: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(include), str(REPO / "plugins")]))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(REPO / ".importlinter")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )


def test_the_import_rules_hold():
    done = _lint_imports(REPO / "include")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        pytest.param(
            "core/models.py",
            "from housing_report.render import email",
            "import only the stages below them",
            id="a-stage-importing-upward",
        ),
        pytest.param(
            "render/figures.py",
            "from housing_report.render import workbook",
            "No import circle",
            id="a-circle-inside-a-stage",
        ),
        pytest.param(
            "validate/rules.py",
            "from housing_report.setup import template_workbook",
            "import only the stages below them",
            id="two-independent-stages",
        ),
        pytest.param(
            "aggregate/summary.py",
            "import airflow.sdk",
            "without Airflow",
            id="the-logic-importing-airflow",
        ),
    ],
)
def test_a_broken_rule_is_caught(tmp_path, module, line, contract):
    """The contracts are wired: each kind of bad import in a copy of the code breaks one."""
    include = tmp_path / "include"
    shutil.copytree(REPO / "include", include, ignore=shutil.ignore_patterns("__pycache__", "sample_data"))
    target = include / "housing_report" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    done = _lint_imports(include)
    assert done.returncode != 0
    broken = [row for row in done.stdout.splitlines() if row.rstrip().endswith("BROKEN")]
    assert any(contract in row for row in broken), done.stdout[-3000:]


def _product_modules() -> list[Path]:
    roots = [REPO / "include" / "housing_report", REPO / "plugins", REPO / "dags"]
    return sorted(p for root in roots for p in root.rglob("*.py") if "migrations" not in p.parts)


def test_no_long_module_without_its_reason():
    too_long = []
    for path in _product_modules():
        lines = path.read_text(encoding="utf-8").count("\n")
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and LONG_REASON not in docstring:
            too_long.append(f"{path.relative_to(REPO)}: {lines} lines")
    assert not too_long, f"longer than {MAX_LINES} lines without «{LONG_REASON}» in the docstring: {too_long}"


def test_every_module_says_what_it_is():
    missing = [
        str(p.relative_to(REPO))
        for p in _product_modules()
        if p.stat().st_size and not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert not missing


PROJECT_PACKAGES = ("housing_report", "housing_report_tools", "housing_report_airflow")


def _private_names_used_across_modules(path: Path) -> list[str]:
    """`from <project module> import _name`, and `<project module>._name` through a module imported
    by name: a module's private helpers are its own."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PROJECT_PACKAGES):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} imports {node.module}.{alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name.startswith(PROJECT_PACKAGES))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{path.relative_to(REPO)}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    roots = [REPO / "include", REPO / "plugins", REPO / "dags"]
    paths = sorted(p for root in roots for p in root.rglob("*.py"))
    found = [hit for path in paths for hit in _private_names_used_across_modules(path)]
    assert not found
