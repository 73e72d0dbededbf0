"""Project folders. Each can be moved with an environment variable.

The full profile writes results/<experiment>/ (committed: README and REPORT.md read these);
any other profile writes results/<profile>/<experiment>/ and checkpoints/<profile>/<experiment>/,
so a smoke run never touches the paper.
"""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
FULL = "full"


def _dir(env, default):
  """The folder, its symbolic links resolved: a results or checkpoints folder may live elsewhere."""
  return pathlib.Path(os.path.realpath(os.environ.get(env) or ROOT / default))


VARIABLES = {"results": "RESEARCH_RESULTS_DIR", "checkpoints": "RESEARCH_CHECKPOINTS_DIR", "cache": "RESEARCH_CACHE_DIR"}


def check_no_links(path, root, what):
  """UserError if a folder between root (resolved, may itself be a link) and path is a symbolic link:
  publishing replaces an experiment's folder whole and a cell deletes its damaged checkpoints, and
  through a link that would delete outside the configured folders."""
  from research.system.errors import UserError
  path, root = pathlib.Path(path), pathlib.Path(root)
  parts = path.relative_to(root).parts
  for i in range(len(parts)):
    p = root.joinpath(*parts[:i + 1])
    if p.is_symlink():
      raise UserError(f"{p} is a symbolic link (to {os.readlink(p)}); the {what} folder may be one "
                      f"({VARIABLES[what]}), the folders in it may not: replace the link with a folder "
                      f"(its target is left alone) or point {VARIABLES[what]} at where it should be")


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
