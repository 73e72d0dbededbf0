"""Project folders. Each can be moved with an environment variable.

The full profile writes results/<experiment>/ (committed: README and REPORT.md read these);
any other profile writes results/<profile>/<experiment>/ and checkpoints/<profile>/<experiment>/,
so a smoke run never touches the paper.
"""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FULL = "full"


def _dir(env, default):
  return pathlib.Path(os.environ.get(env, ROOT / default))


def cache_dir():
  return _dir("RESEARCH_CACHE_DIR", ".cache")


def results_dir(profile=FULL):
  root = _dir("RESEARCH_RESULTS_DIR", "results")
  return root if profile == FULL else root / profile


def checkpoints_dir(profile=FULL):
  root = _dir("RESEARCH_CHECKPOINTS_DIR", "checkpoints")
  return root if profile == FULL else root / profile
