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


def _writable_dir(folder):
  """Whether folder exists (or can be made) and takes a file: a real write probe (root passes os.access)."""
  import tempfile
  try:
    pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
      return True
  except OSError:
    return False


def matplotlib_config():
  """Points MPLCONFIGDIR at a writable folder when matplotlib's own (under HOME) is not: otherwise every
  process warns twice and rebuilds its font cache in a new temporary folder. The project's cache folder
  if it takes files, else one per user under the system's temporary folder."""
  if os.environ.get("MPLCONFIGDIR"):
    return
  home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
  default = os.path.join(home, "matplotlib")
  if os.path.isdir(default) and os.access(default, os.W_OK) and _writable_dir(default):
    return
  if not os.path.isdir(default) and _writable_dir(default):
    return
  import tempfile
  for folder in (cache_dir() / "matplotlib", pathlib.Path(tempfile.gettempdir()) / f"research-matplotlib-{os.getuid()}"):
    if _writable_dir(folder):
      os.environ["MPLCONFIGDIR"] = str(folder)
      return
