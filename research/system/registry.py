"""The experiments: every module or package in experiments/ that sets NAME is one.

Adding an experiment is writing one module (see experiments/depth_vs_accuracy.py):

  NAME = "depth_vs_accuracy"   # its results folder, and a `make` target
  ALIAS = "depth"              # optional: a shorter name for the command line and `make`
  ORDER = 1                    # its place in `make paper` and REPORT.md
  TITLE = "..."                # or title(cfg): the title of what a config runs
  get_config(), PROFILES (with "quick" and "tiny"), validate(cfg), run(cfg, ctx),
  table(doc), plots(doc), reading(doc)
  depth_pairs(doc)             # optional: its deeper-vs-shallower comparisons for REPORT.md's depth
                               # summary (research/report/depth_verdicts.py)

The Makefile, `make paper`, REPORT.md, README's claims list, `python -m research list` and the
tests all read this registry. `scan()` reads the constants without importing anything (the
Makefile calls `python3 -m research.system.registry targets` before the project is installed).
"""
import os
import signal

if __name__ == "__main__":  # `make` reads the targets as it starts: Ctrl-C there ends this quietly
  signal.signal(signal.SIGINT, lambda *a: os._exit(130))

import ast  # noqa: E402
import difflib  # noqa: E402
import importlib  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
from typing import NamedTuple  # noqa: E402

from research.system.errors import UserError  # noqa: E402

FOLDER = pathlib.Path(__file__).resolve().parents[2] / "experiments"
# Folder names under results/ that are not experiments.
RESERVED = ("bench", "quick", "tiny")


class Entry(NamedTuple):
  name: str
  module: str   # importable module name
  order: float
  alias: str
  title: str


def _constants(path):
  """NAME, ALIAS, ORDER, TITLE assigned at the top level of a module's source."""
  out = {}
  for node in ast.parse(path.read_text()).body:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
      key = node.targets[0].id
      if key in ("NAME", "ALIAS", "ORDER", "TITLE"):
        try:
          out[key] = ast.literal_eval(node.value)
        except ValueError:
          pass
  return out


def scan(folder=FOLDER):
  """Every experiment under `folder`, in paper order (ORDER, then name)."""
  entries = []
  for path in sorted(pathlib.Path(folder).iterdir()):
    source = path / "__init__.py" if path.is_dir() else path
    stem = path.name if path.is_dir() else path.stem
    if stem.startswith("_") or not source.exists() or source.suffix != ".py":
      continue
    c = _constants(source)
    if "NAME" not in c:
      continue
    if c["NAME"] != stem or stem in RESERVED:
      raise UserError(f"experiment module {source}: NAME must be its file name '{stem}' and not one of "
                      f"{', '.join(RESERVED)}")
    entries.append(Entry(c["NAME"], f"experiments.{stem}", float(c.get("ORDER", 1e9)), c.get("ALIAS", ""),
                         c.get("TITLE", "")))
  return sorted(entries, key=lambda e: (e.order, e.name))


def names():
  return [e.name for e in scan()]


def aliases():
  return {e.alias: e.name for e in scan() if e.alias}


def resolve(name):
  """The experiment module for a name or alias; one line with a suggestion if there is none."""
  entries = scan()
  by_name = {e.name: e for e in entries} | {e.alias: e for e in entries if e.alias}
  if name not in by_name:
    hint = difflib.get_close_matches(name, sorted(by_name), n=1)
    hint = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise UserError(f"unknown experiment '{name}'{hint}; valid: {', '.join(sorted(by_name))}")
  return importlib.import_module(by_name[name].module)


def main(argv):
  """`targets`: every name and alias, for the Makefile."""
  if argv[:1] == ["targets"]:
    print(" ".join(n for e in scan() for n in (e.name, e.alias) if n))
    return 0
  print("usage: python3 -m research.system.registry targets", file=sys.stderr)
  return 2


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
