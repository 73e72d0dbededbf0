"""The driver every experiment runs under.

An experiment is a module in experiments/ with
  NAME, TITLE            its name (results/NAME/) and a one-line title
  get_config()           defaults: the `full` profile
  PROFILES               {"quick": {key: value, ...}} overrides
  validate(cfg)          raises UserError on bad values (before anything is written)
  run(cfg, ctx) -> dict  trains through ctx.cell(...), returns JSON-able results
  table(res) -> str      the paper-style markdown table(s)
  plots(res) -> {file: matplotlib Figure}
  reading(res) -> str    a short reading of the numbers, for REPORT.md

The driver parses the command line, checks everything it can before any
training, and writes results/NAME/ (results.json, table.md, .tex, .csv, reading.md, PNGs)
as a whole: into a staging folder first, then swapped in, so a killed run
never leaves a torn or half-replaced result.
"""
import dataclasses
import importlib
import os
import pathlib
import shutil
import sys
import time

from research import cells, config, paths, results, sharding, tables
from research.errors import UserError

# In the order `make paper` runs them and REPORT.md shows them.
EXPERIMENTS = {
    "depth_vs_accuracy": "experiments.depth_vs_accuracy",
    "deep_vs_wide": "experiments.deep_vs_wide",
    "modular": "experiments.modular",
    "architectures": "experiments.architectures",
    "learning_rate": "experiments.learning_rate",
    "pruning": "experiments.pruning",
    "data_hunger": "experiments.data_hunger",
}
ALIASES = {"depth": "depth_vs_accuracy", "wide": "deep_vs_wide", "lr": "learning_rate"}


def setup_jax():
  """The persistent compilation cache, on by default, under the project's cache folder."""
  import jax
  jax.config.update("jax_compilation_cache_dir", str(paths.cache_dir() / "jax"))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def resolve(name):
  import difflib
  full = ALIASES.get(name, name)
  if full not in EXPERIMENTS:
    names = sorted(set(EXPERIMENTS) | set(ALIASES))
    hint = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise UserError(f"unknown experiment '{name}'{hint}; valid: {', '.join(names)}")
  return importlib.import_module(EXPERIMENTS[full])


@dataclasses.dataclass
class Context:
  """What an experiment's run() may use: data loading, cells, progress."""
  name: str
  cfg: object
  ckpt_root: pathlib.Path
  progress: bool = True
  _data: dict = dataclasses.field(default_factory=dict)
  _bar: object = None

  def data(self, name=None, **options):
    """(Dataset, arrays on the device), loaded once per set of options."""
    import jax
    from research import data as data_lib
    name = name or self.cfg.dataset
    key = (name, tuple(sorted(options.items())))
    if key not in self._data:
      ds = data_lib.load(name, **options)
      self._data[key] = (ds, jax.device_put(ds.arrays()))
    return self._data[key]

  def plan(self, total_cells):
    from tqdm.auto import tqdm
    self._bar = tqdm(total=total_cells, desc=self.name, unit="cell", disable=not self.progress)

  def cell(self, trainer, arrays, *, name, spec, seeds, hparams, **kw):
    """cells.run_cell with this experiment's checkpoint folder, chunking, sharding and progress."""
    cfg = self.cfg
    if "epochs" not in kw:
      kw["epochs"] = cfg.epochs
    mesh = sharding.auto_mesh(cfg.get("shard", "auto"), len(seeds))
    out = cells.run_cell(trainer, arrays, name=name, spec=spec, seeds=seeds, hparams=hparams,
                         root=self.ckpt_root, chunk_epochs=cfg.get("chunk_epochs", 1),
                         checkpoint_every_s=cfg.get("checkpoint_every_s", 60.0),
                         progress=self.progress, mesh=mesh, **kw)
    if self._bar is not None:
      self._bar.update(1)
    return out

  def close(self):
    if self._bar is not None:
      self._bar.close()


def _check_writable(folder, what):
  """A real write probe (os.access says yes to root even on a read-only folder)."""
  import tempfile
  folder = pathlib.Path(folder)
  probe = folder
  while not probe.exists():
    probe = probe.parent
  try:
    if not probe.is_dir():
      raise OSError(f"{probe} is not a folder")
    with tempfile.TemporaryFile(dir=probe):
      pass
  except OSError as e:
    raise UserError(f"the {what} folder {folder} is not writable ({e.strerror or e}); fix its permissions "
                    f"or point RESEARCH_{what.upper()}_DIR elsewhere") from None


def _clean_leftovers(out_dir, ckpt_root):
  """Staging folders and temporary files that a killed run left behind."""
  parent = out_dir.parent
  old = parent / f".old-{out_dir.name}"
  if old.exists() and not out_dir.exists():  # killed between the two renames of replace_dir
    os.replace(old, out_dir)
  if parent.exists():
    for p in parent.glob(f".staging-{out_dir.name}-*"):
      shutil.rmtree(p, ignore_errors=True)
  for p in [*out_dir.glob(".tmp-*"), *ckpt_root.glob("*/.tmp-*"), *parent.glob(".tmp-*")]:
    p.unlink(missing_ok=True)


def execute(name, profile="full", overrides=(), progress=True):
  """Runs one experiment end to end; returns the path of its results folder."""
  module = resolve(name)
  cfg = config.with_profile(module, profile)
  config.apply_overrides(cfg, overrides)
  config.common(cfg)
  module.validate(cfg)
  out_dir = paths.results_dir() / module.NAME
  ckpt_root = paths.checkpoints_dir() / module.NAME
  for folder in (out_dir.parent, out_dir):  # staging folders are made beside out_dir
    _check_writable(folder, "results")
  _check_writable(ckpt_root, "checkpoints")
  setup_jax()
  sharding.maybe_initialize()
  _clean_leftovers(out_dir, ckpt_root)

  ctx = Context(module.NAME, cfg, ckpt_root, progress)
  start = time.time()
  try:
    res = module.run(cfg, ctx)
  finally:
    ctx.close()
  wall = time.time() - start
  doc = dict(experiment=module.NAME, title=module.TITLE, profile=profile, config=cfg.to_dict(),
             environment=results.environment(), wall_s=wall,
             finished=time.strftime("%Y-%m-%d %H:%M:%S %Z"), results=res)
  doc = results.clean_json(doc)
  if not sharding.is_main_process():
    return out_dir, wall  # one host writes the results

  out_dir.parent.mkdir(parents=True, exist_ok=True)
  staging = out_dir.parent / f".staging-{module.NAME}-{os.getpid()}"
  shutil.rmtree(staging, ignore_errors=True)
  staging.mkdir()
  try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    (staging / "results.json").write_text(results.dumps(doc) + "\n")
    (staging / "table.md").write_text(module.table(doc))
    tables.write(staging, (staging / "table.md").read_text())  # table.tex, table.csv
    (staging / "reading.md").write_text(module.reading(doc).strip() + "\n")
    for fname, fig in module.plots(doc).items():
      fig.savefig(staging / fname, dpi=120, bbox_inches="tight")
      plt.close(fig)
    results.replace_dir(staging, out_dir)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  return out_dir, wall


def render(name):
  """Rewrites table.md, reading.md and plots from an existing results.json (no training)."""
  import json
  module = resolve(name)
  out_dir = paths.results_dir() / module.NAME
  path = out_dir / "results.json"
  if not path.exists():
    raise UserError(f"no {path}: run `make` for the experiment first")
  doc = json.loads(path.read_text())
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  results.write_atomic(out_dir / "table.md", module.table(doc))
  tables.write(out_dir, (out_dir / "table.md").read_text())
  results.write_atomic(out_dir / "reading.md", module.reading(doc).strip() + "\n")
  for fname, fig in module.plots(doc).items():
    tmp = out_dir / f".tmp-{fname}"
    fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)
    os.replace(tmp, out_dir / fname)
  return out_dir


def main(argv=None):
  """python -m research {run NAME [--profile P] [--config.KEY=VALUE ...] | render NAME | report | readme | list} [--debug]

  run      trains (or reuses) an experiment's cells and writes results/NAME/
  render   rewrites results/NAME/ tables and plots from its results.json
  report   writes results/REPORT.md from every experiment's results
  readme   copies the results tables into README.md's marked blocks
  """
  argv = list(sys.argv[1:] if argv is None else argv)
  debug = "--debug" in argv
  argv = [a for a in argv if a != "--debug"]
  try:
    return _main(argv)
  except UserError as e:
    if debug:
      raise
    print(f"error: {e}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print("interrupted; run the same command again to resume where it stopped", file=sys.stderr)
    return 130


def _main(argv):
  if not argv or argv[0] in ("-h", "--help", "help"):
    print(main.__doc__)
    return 0
  cmd, rest = argv[0], argv[1:]
  if cmd == "list":
    for name in EXPERIMENTS:
      print(f"{name:20s} {resolve(name).TITLE}")
    return 0
  if cmd == "report":
    from research import report
    seconds = next((float(a.split("=", 1)[1]) for a in rest if a.startswith("--paper-seconds=")), None)
    print(report.write(seconds))
    return 0
  if cmd == "readme":
    from research import report
    print(report.sync_readme())
    return 0
  if cmd not in ("run", "render"):
    raise UserError(f"unknown command '{cmd}'; valid: run, render, report, readme, list")
  if not rest or rest[0].startswith("-"):
    raise UserError(f"`{cmd}` needs an experiment name; valid: {', '.join(EXPERIMENTS)}")
  name, rest = rest[0], rest[1:]
  if cmd == "render":
    print(render(name))
    return 0
  profile = "full"
  overrides = []
  i = 0
  while i < len(rest):
    a = rest[i]
    if a == "--profile" and i + 1 < len(rest):
      profile, i = rest[i + 1], i + 2
      continue
    if a.startswith("--profile="):
      profile = a.split("=", 1)[1]
    elif a == "--no-progress":
      pass
    else:
      overrides.append(a)
    i += 1
  progress = "--no-progress" not in rest
  out_dir, wall = execute(name, profile or "full", overrides, progress=progress)
  print(f"{out_dir}: done in {wall:.0f} s")
  return 0
