"""The layout shows the architecture: research/'s packages import only downward, nothing in the
library imports an experiment or the benchmark, and files and functions stay short enough to read."""
import ast
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# A package may import its own modules and those of a lower level; models and data are peers that
# know nothing of each other.
LEVEL = {"system": 0, "models": 1, "data": 1, "engine": 2, "report": 3, "cli": 4}
MAX_FILE_LINES = 350
MAX_FUNCTION_LINES = 60


def _sources(*folders):
  return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def _imported(path):
  """Every module path that `path` imports (at the top or inside a function), dotted."""
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      yield node.module
      yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _package(path):
  parts = path.relative_to(ROOT / "research").parts
  return parts[0] if len(parts) > 1 else None  # None: research/__init__.py, __main__.py


def _violations(path):
  own = _package(path)
  for name in _imported(path):
    top, _, rest = name.partition(".")
    if top in ("experiments", "bench"):
      yield f"{name} (the library never imports an experiment or the benchmark)"
    if top != "research" or own is None:
      continue
    target = rest.split(".")[0]
    if target in LEVEL and target != own and LEVEL[target] >= LEVEL[own]:
      yield f"{name} ({own} is level {LEVEL[own]}, {target} level {LEVEL[target]})"


def test_research_is_packages_that_import_only_downward():
  assert {p.name for p in (ROOT / "research").iterdir() if p.is_dir() and p.name != "__pycache__"} == set(LEVEL)
  assert sorted(p.name for p in (ROOT / "research").glob("*.py")) == ["__init__.py", "__main__.py"]
  bad = {str(p.relative_to(ROOT)): sorted(set(_violations(p))) for p in _sources("research")}
  assert {k: v for k, v in bad.items() if v} == {}


def test_the_layout_check_sees_an_upward_import(tmp_path, monkeypatch):
  engine = tmp_path / "research" / "engine"
  engine.mkdir(parents=True)
  (engine / "cells.py").write_text("from research.cli import config\n\ndef f():\n  from research import report\n"
                                   "  import experiments.modular\n")
  monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
  found = sorted(set(_violations(engine / "cells.py")))
  assert any(v.startswith("research.cli (engine") for v in found)
  assert any(v.startswith("research.report (engine") for v in found)
  assert any(v.startswith("experiments.modular ") for v in found)


def _long_functions(path):
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
      length = node.end_lineno - node.lineno + 1
      if length > MAX_FUNCTION_LINES:
        yield f"{node.name} at line {node.lineno}: {length} lines"


@pytest.mark.parametrize("folder", ["research", "experiments", "bench", "docs"])
def test_files_and_functions_fit_a_screen(folder):
  long_files = {str(p.relative_to(ROOT)): p.read_text().count("\n") for p in _sources(folder)}
  assert {k: n for k, n in long_files.items() if n > MAX_FILE_LINES} == {}
  long_functions = {str(p.relative_to(ROOT)): list(_long_functions(p)) for p in _sources(folder)}
  assert {k: v for k, v in long_functions.items() if v} == {}


def test_the_engines_public_functions_are_annotated():
  """Every argument and return of a public module-level function in research/engine/ has a type."""
  missing = []
  for path in _sources("research/engine"):
    for node in ast.parse(path.read_text()).body:
      if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
        continue
      args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
      unannotated = [a.arg for a in args if a.annotation is None]
      if unannotated or node.returns is None:
        missing.append(f"{path.name}:{node.name} ({', '.join(unannotated) or 'return'})")
  assert missing == []
