"""Configs: an experiment's defaults, its profiles, and --config.key=value overrides.

Every experiment module has get_config() (the `full` profile: the numbers in
the README) and PROFILES = {"quick": {...}}, a dict of overrides. On the
command line, `--config.epochs=5` or `--config.depths=[1,2,4]` overrides any
key; unknown keys and values of the wrong type fail at once, naming what is
valid.
"""
import ast
import difflib

import ml_collections

from research import data
from research.system import limits
from research.engine import optim, sharding, train
from research.system.errors import UserError


# full: the committed results; quick: a smoke run of the same pipeline (minutes); tiny: seconds,
# on digits or synthetic data (what the tests run for every experiment).
PROFILE_NAMES = ("full", "quick", "tiny")


def check_profile_name(profile):
  if profile not in PROFILE_NAMES:
    raise UserError(f"unknown profile '{profile}'; valid: {', '.join(PROFILE_NAMES)}")


# What every experiment's config holds, so that every table is selected and stopped by one rule:
# the validation split all selection reads, the stopping rule and the learning-rate schedule.
PROTOCOL_KEYS = ("val_size", "epochs", "patience", "schedule", "warmup_epochs")


def check_protocol(cfg, name):
  missing = [k for k in PROTOCOL_KEYS if k not in cfg]
  require(not missing, f"experiment {name}: its config lacks {', '.join(missing)} (every experiment selects "
          "on a validation split and states its stopping rule; see research/cli/config.py PROTOCOL_KEYS)")
  require(cfg.val_size > 0, f"config val_size={cfg.val_size}: every experiment selects on a validation split; "
          "give it at least one example per class")


def with_profile(module, profile):
  check_profile_name(profile)
  cfg = module.get_config()
  if "layout" not in cfg:  # an engine key every experiment has: how a cell's members share a program
    with cfg.unlocked() if hasattr(cfg, "unlocked") else _null():
      cfg.layout = "auto"
  profiles = {"full": {}, **getattr(module, "PROFILES", {})}
  if profile not in profiles:
    raise UserError(f"unknown profile '{profile}' for {module.NAME}; valid: {', '.join(profiles)}")
  for key, value in profiles[profile].items():
    _set(cfg, key, value, source=f"profile {profile}")
  return cfg


def _parse(text, like, key):
  """Parses a command-line string into the type of the default `like`."""
  if isinstance(like, bool):
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
      return True
    if low in ("0", "false", "no", "off"):
      return False
    raise UserError(f"--config.{key}={text}: expected true or false")
  if isinstance(like, str):
    return text
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    if isinstance(like, (list, tuple)) and like and isinstance(like[0], str):
      # Names need no quotes on a command line: [mlp,residual_mlp] or mlp,residual_mlp.
      value = [w.strip().strip("'\"") for w in text.strip().strip("[]").split(",") if w.strip()]
    else:
      raise UserError(f"--config.{key}={text}: expected {_kind(like)} like {like!r}") from None
  return _coerce(value, like, key, text)


def _kind(like):
  return {int: "an integer", float: "a number", str: "a string"}.get(type(like), f"a {type(like).__name__}")


def _coerce(value, like, key, text):
  if isinstance(like, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
    return float(value)
  if isinstance(like, int) and not isinstance(like, bool) and isinstance(value, int) and not isinstance(value, bool):
    return value
  if isinstance(like, (list, tuple)):
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
      value = [value]  # a single value is a list of one
    if not isinstance(value, (list, tuple)):
      raise UserError(f"--config.{key}={text}: expected a list like {list(like)!r}")
    if like:
      value = [_coerce(v, like[0], key, text) for v in value]
    return type(like)(value)
  if like is None or type(value) is type(like):
    return value
  raise UserError(f"--config.{key}={text}: expected {_kind(like)} like {like!r}")


def _set(cfg, key, value, source):
  node, parts = cfg, key.split(".")
  for i, part in enumerate(parts):
    keys = list(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
    if part not in keys:
      where = ".".join(parts[:i])
      full = [f"{where}.{k}" if where else k for k in keys]
      hint = difflib.get_close_matches(".".join(parts[:i + 1]), full, n=1)
      hint = f" (did you mean '{hint[0]}'?)" if hint else ""
      raise UserError(f"{source}: unknown config key '{key}'{hint}; valid: {', '.join(sorted(full))}")
    if i < len(parts) - 1:
      node = node[part]
  last = parts[-1]
  old = node[last]
  if isinstance(value, str) and not isinstance(old, str):
    value = _parse(value, old, key)
  elif not isinstance(value, str) or not isinstance(old, str):
    value = _coerce(value, old, key, repr(value))
  with node.unlocked() if hasattr(node, "unlocked") else _null():
    node[last] = value


class _null:
  def __enter__(self):
    return self

  def __exit__(self, *a):
    return False


def apply_overrides(cfg, args):
  """args: ['--config.a=1', '--config.b.c=x', ...] -> cfg updated in place."""
  for arg in args:
    if not arg.startswith("--config."):
      raise UserError(f"unknown argument '{arg}'; overrides look like --config.KEY=VALUE")
    body = arg[len("--config."):]
    if "=" not in body:
      raise UserError(f"'{arg}' has no value; write --config.{body}=VALUE")
    key, value = body.split("=", 1)
    _set(cfg, key, value, source="command line")
  return cfg


# ----------------------------------------------------------------------------
# Checks shared by experiments' validate(cfg)

def require(ok, message):
  if not ok:
    raise UserError(message)


def positive(cfg, *keys):
  for k in keys:
    v = cfg[k]
    for x in (v if isinstance(v, (list, tuple)) else [v]):
      require(x > 0, f"config {k}={v!r}: must be > 0")


def non_negative(cfg, *keys):
  for k in keys:
    v = cfg[k]
    for x in (v if isinstance(v, (list, tuple)) else [v]):
      require(x >= 0, f"config {k}={v!r}: must be >= 0")


def nonempty(cfg, *keys):
  for k in keys:
    require(len(cfg[k]) > 0, f"config {k}: needs at least one value")


def one_of(cfg, key, valid):
  require(cfg[key] in valid, f"config {key}={cfg[key]!r}: valid values are {', '.join(map(str, valid))}")


# List-valued keys whose entries are table rows or columns: a repeated entry would repeat a row.
ROW_KEYS = ("depths", "sizes", "learning_rates", "resolutions", "hunger_n_train", "optimizers", "rhos",
            "datasets", "families", "variants", "models")


def check_dataset(name, key="dataset"):
  """A dataset name the data layer knows, in plain ASCII: int() reads some non-ASCII digits ('٣') and
  not others ('²'), so a name like sawtooth:² would otherwise fail deep inside the data layer."""
  require(isinstance(name, str) and name.isascii() and name.isprintable(),
          f"config {key}={name!r}: dataset names are plain ASCII (digits 0-9), e.g. sawtooth:4")
  data.check_name(name)


def common(cfg):
  """Checks for the keys every experiment shares (those present), and for every value: finite,
  within bounds, no repeated rows."""
  limits.finite(cfg)
  limits.bounded(cfg)
  limits.distinct(cfg, *(k for k in ROW_KEYS if k in cfg and isinstance(cfg[k], (list, tuple))))
  for k in ("epochs", "batch_size", "chunk_epochs"):
    if k in cfg:
      positive(cfg, k)
  for k in ("learning_rate", "learning_rates"):
    if k in cfg:
      positive(cfg, k)
  # A grid of no values trains nothing and selects from nothing (grid_learning_rates, ...).
  nonempty(cfg, *(k for k in cfg.keys() if k.endswith("learning_rates") and isinstance(cfg[k], (list, tuple))))
  if "seeds" in cfg:
    require(cfg.seeds > 0, f"config seeds={cfg.seeds}: needs at least 1 seed")
    if "epochs" in cfg:
      limits.check_history_fits(cfg.seeds, cfg.epochs, f"config seeds={cfg.seeds}, epochs={cfg.epochs}")
  for k in ("n_train", "resize", "patience", "warmup_epochs"):
    if k in cfg:
      non_negative(cfg, k)
  if "schedule" in cfg:
    optim.check_schedule(cfg.schedule)
  if "warmup_epochs" in cfg and "epochs" in cfg:
    require(cfg.warmup_epochs < cfg.epochs, f"config warmup_epochs={cfg.warmup_epochs}: must be under "
            f"epochs={cfg.epochs}")
  if cfg.get("batch_size") and cfg.get("n_train") and cfg.batch_size > cfg.n_train:
    raise UserError(f"config batch_size={cfg.batch_size} is larger than the {cfg.n_train} training examples "
                    f"asked for by n_train={cfg.n_train}; use a smaller batch_size or more data")
  if "dataset" in cfg:
    check_dataset(cfg.dataset)
  if "optimizer" in cfg:
    optim.check(cfg.optimizer)
  if "precision" in cfg:
    from research import models
    one_of(cfg, "precision", tuple(models.PRECISIONS))
  if "shard" in cfg:
    one_of(cfg, "shard", sharding.MODES)
  if "layout" in cfg:
    one_of(cfg, "layout", ("auto",) + train.LAYOUTS)
