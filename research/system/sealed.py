"""A published results folder as readers see it: sealed (a digest over results.json's content),
read under a shared lock, restored where a publish was killed between its two renames.

  with sealed.reading(out_dir):
    doc = sealed.read_doc(sealed.recover(out_dir) / "results.json")   # UserError: one line
"""
import json
import os
import pathlib

from research.system import lock, paths, results
from research.system.errors import UserError, say



def recover(out_dir):
  """Finishes a publish killed between the two renames of results.replace_dir, where only
  .old-<name> is left: puts it back, saying so in one line. Returns the folder to read: out_dir, or
  the .old- copy where the folder cannot be changed (read-only)."""
  old = out_dir.with_name(f".old-{out_dir.name}")
  if out_dir.exists() or out_dir.is_symlink() or old.is_symlink() or not old.is_dir():
    return out_dir
  try:
    with lock.hold(out_dir.parent, "results", wait_s=30):  # publish holds it around its renames
      if old.is_dir() and not out_dir.exists():
        os.replace(old, out_dir)
  except (OSError, UserError) as e:  # read-only (the lock file too), or a writer holding it all along
    why = e.strerror if isinstance(e, OSError) else "its lock cannot be taken"
    say(f"{out_dir}: a publish was interrupted between its two renames and {out_dir.parent} cannot be "
         f"changed ({why}); reading the previous results in {old.name}")
    return old
  say(f"{out_dir}: a publish was interrupted between its two renames; restored the previous results "
       f"from {old.name}")
  return out_dir


def reading(out_dir):
  """Held while reading an experiment's results folder: publish() cannot swap it underneath."""
  return lock.hold(out_dir.parent, "results", shared=True, wait_s=30)


class UnsealedError(UserError):
  """A results.json whose digest does not match its content: edited, or written by other code."""


def seal(doc):
  """results.json's content with its digest (over everything else in it)."""
  return dict(doc, digest=results.digest_json({k: v for k, v in doc.items() if k != "digest"}))


def check_folder(folder, what="results"):
  """UserError if folder, or a folder above it, is something other than a folder (a file in its place)."""
  folder = pathlib.Path(folder)
  for p in (folder, *folder.parents):
    if p.exists() and not p.is_dir():
      raise UserError(f"the {what} folder {folder} cannot be read: {p} is not a folder (a file is in its "
                      f"place); move it away or point {paths.VARIABLES[what]} elsewhere")
    if p.exists():
      return


def read_raw(path):
  """The bytes of an experiment's results.json, or one line saying what is wrong."""
  try:
    return pathlib.Path(path).read_bytes()
  except FileNotFoundError:
    raise UserError(f"no {path}: run the experiment first") from None
  except OSError as e:  # a directory in its place, unreadable
    raise UserError(f"{path} is unreadable or corrupt ({type(e).__name__}); run the experiment again "
                    "to rewrite it (its finished cells are reused)") from None


def read_doc(path, raw=None):
  """An experiment's results.json (from `raw` bytes when given), or one line saying what is wrong;
  UnsealedError when its digest does not match what it holds."""
  try:
    doc = json.loads(read_raw(path) if raw is None else raw)
  except ValueError as e:
    raise UserError(f"{path} is unreadable or corrupt ({type(e).__name__}); run the experiment again "
                    "to rewrite it (its finished cells are reused)") from None
  if not isinstance(doc, dict) or not {"config", "results", "environment"} <= set(doc):
    raise UserError(f"{path} is not an experiment's results (keys config, results, environment missing); "
                    "run the experiment again to rewrite it (its finished cells are reused)")
  if doc.get("digest") != seal(doc)["digest"]:
    what = "carries no digest" if "digest" not in doc else "does not match its digest (edited after it was written?)"
    raise UnsealedError(f"{path} {what}: not rendered or reported; rebuild it with `make "
                        f"{doc.get('experiment', 'NAME')}` (its finished cells are reused)")
  return doc
