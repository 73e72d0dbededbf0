"""Project folders. Each can be moved with an environment variable."""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _dir(env, default):
  return pathlib.Path(os.environ.get(env, ROOT / default))


def cache_dir():
  return _dir("RESEARCH_CACHE_DIR", ".cache")


def results_dir():
  return _dir("RESEARCH_RESULTS_DIR", "results")


def checkpoints_dir():
  return _dir("RESEARCH_CHECKPOINTS_DIR", "checkpoints")
