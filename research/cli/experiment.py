"""Running an experiment: config, cells, and its results folder written as a whole.

  out_dir, seconds = execute("depth", profile="tiny", overrides=["--config.width=32"])
  render("depth")          # tables and plots again from results.json, no training

An experiment is a module in experiments/ (see research/system/registry.py for what it defines).
`execute` checks everything it can before any training, trains through `Context.cell`, and
publishes results/[<profile>/]NAME/ (results.json, table.md/.tex/.csv, reading.md, PNGs) in
one swap: built in a staging folder first, so a killed run never leaves a torn or
half-replaced result. `render` publishes the same files the same way from results.json.
"""
import contextlib
import dataclasses
import io
import os
import pathlib
import shutil
import tempfile
import time

import jax
import matplotlib
from tqdm.auto import tqdm

from research.engine import cells, optim, runtime, sharding, train
from research.cli import config
from research import data as data_lib
from research.system import faults, lock, pages, paths, registry, results
from research.report import tables
from research.system.errors import UserError
from research.system.sealed import check_folder, read_doc, read_raw, recover, seal

matplotlib.use("Agg")  # files, never a window
import matplotlib.pyplot as plt  # noqa: E402


@dataclasses.dataclass
class Context:
  """What an experiment's run() may use: data loading, cells, progress."""
  name: str
  cfg: object
  ckpt_root: pathlib.Path
  progress: bool = True
  _data: dict = dataclasses.field(default_factory=dict)
  _bar: object = None
  cells: list = dataclasses.field(default_factory=list)  # what each cell cost, for summary.md

  def data(self, name=None, **options):
    """(Dataset, arrays on the device), loaded once per set of options."""
    name = name or self.cfg.dataset
    key = (name, tuple(sorted(options.items())))
    if key not in self._data:
      ds = data_lib.load(name, **options)
      self._data[key] = (ds, jax.device_put(ds.arrays()))
    return self._data[key]

  def trainer(self, model, *, optimizer=None, batch_size=None, epochs=None, make=train.make_trainer, **options):
    """train.make_trainer under the config's protocol: its stopping rule (patience) and its
    learning-rate schedule over the maximum epochs; optimizer and batch size from the config
    unless given. Every contender an experiment trains gets the same rule through here, those of
    another trainer with make_trainer's signature too (make=research.engine.group_dro.make_trainer)."""
    cfg = self.cfg
    schedule = optim.schedule(cfg.schedule, warmup_epochs=cfg.warmup_epochs, epochs=epochs or cfg.epochs)
    return make(model, optimizer or cfg.optimizer, batch_size or cfg.batch_size,
                patience=cfg.patience, schedule=schedule, **options)

  def plan(self, total_cells):
    self._bar = tqdm(total=total_cells, desc=self.name, unit="cell", disable=not self.progress)

  def cell(self, trainer, arrays, *, name, spec, seeds, hparams, **kw):
    """cells.run_cell with this experiment's checkpoint folder, chunking, sharding and progress."""
    cfg = self.cfg
    if "epochs" not in kw:
      kw["epochs"] = cfg.epochs
    mesh = sharding.auto_mesh(cfg.get("shard", "auto"), len(seeds))
    layout = cfg.get("layout", "auto")
    out = cells.run_cell(trainer, arrays, name=name, spec=spec, seeds=seeds, hparams=hparams,
                         root=self.ckpt_root, chunk_epochs=cfg.get("chunk_epochs", 1),
                         checkpoint_every_s=cfg.get("checkpoint_every_s", 60.0),
                         progress=self.progress, mesh=mesh, layout=None if layout == "auto" else layout, **kw)
    self.cells.append(dict(name=name, members=len(seeds), reused=out.summary.reused,
                           **out.summary.timing._asdict()))
    if self._bar is not None:
      self._bar.update(1)
    return out

  def close(self):
    if self._bar is not None:
      self._bar.close()


def _check_writable(folder, what):
  """A real write probe (os.access says yes to root even on a read-only folder)."""
  folder = pathlib.Path(folder)
  probe = folder
  while not probe.exists():
    probe = probe.parent
  if not probe.is_dir():
    raise UserError(f"the {what} folder {folder} cannot be written: {probe} is not a folder (a file is in its "
                    f"place); move it away or point RESEARCH_{what.upper()}_DIR elsewhere")
  try:
    with tempfile.TemporaryFile(dir=probe):
      pass
  except OSError as e:
    raise UserError(f"the {what} folder {folder} is not writable ({e.strerror or e}); fix its permissions "
                    f"or point RESEARCH_{what.upper()}_DIR elsewhere") from None


def _clean_leftovers(out_dir, ckpt_root):
  """Staging folders and temporary files that a killed run left behind."""
  parent = out_dir.parent
  recover(out_dir)
  for cell in (ckpt_root.iterdir() if ckpt_root.is_dir() else ()):
    paths.check_no_links(cell, paths.checkpoints_dir(paths.FULL), "checkpoints")
  if parent.exists():
    for p in parent.glob(f".staging-{out_dir.name}-*"):
      shutil.rmtree(p, ignore_errors=True)
  for p in [*out_dir.glob(".tmp-*"), *ckpt_root.glob("*/.tmp-*"), *parent.glob(".tmp-*")]:
    p.unlink(missing_ok=True)


def _check_folders(out_dir, ckpt_root):
  """No symbolic link inside the configured folders on the way to what a run replaces or deletes."""
  for folder in (out_dir, out_dir.with_name(f".old-{out_dir.name}")):
    paths.check_no_links(folder, paths.results_dir(paths.FULL), "results")
  paths.check_no_links(ckpt_root, paths.checkpoints_dir(paths.FULL), "checkpoints")


def configure(name, profile, overrides):
  """(module, validated config) for a run; raises UserError before anything is written."""
  module = registry.resolve(name)
  cfg = config.with_profile(module, profile)
  config.apply_overrides(cfg, overrides)
  config.common(cfg)
  config.check_protocol(cfg, module.NAME)
  module.validate(cfg)
  return module, cfg


def output_files(module, doc):
  """Everything results/NAME/ holds besides results.json, as {file name: bytes}."""
  page = pages.page(module.table(doc))
  files = {"table.md": page.markdown().encode(), "reading.md": (module.reading(doc).strip() + "\n").encode()}
  files.update({name: text.encode() for name, text in tables.formats(page).items()})  # .tex, .csv, from the values
  for fname, fig in module.plots(doc).items():
    buf = io.BytesIO()
    fig.savefig(buf, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)
    files[fname] = buf.getvalue()
  return files


def publish(files, out_dir):
  """Writes {file: bytes} as the whole of out_dir: staged beside it, then swapped in while no
  reader holds the folder (report and render read it as one snapshot)."""
  staging = out_dir.parent / f".staging-{out_dir.name}-{os.getpid()}"
  shutil.rmtree(staging, ignore_errors=True)
  needed = sum(len(data) for data in files.values())
  try:
    with faults.reported(f"writing the results of {out_dir.name}", out_dir.parent, needed):
      out_dir.parent.mkdir(parents=True, exist_ok=True)
      staging.mkdir()
      for fname, data in files.items():
        (staging / fname).write_bytes(data)
        os.chmod(staging / fname, 0o644)
      with lock.hold(out_dir.parent, "results", wait_s=30):
        results.replace_dir(staging, out_dir)
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def execute(name, profile=paths.FULL, overrides=(), progress=True):
  """Runs one experiment end to end; returns (its results folder, wall seconds)."""
  module, cfg = configure(name, profile, overrides)
  runtime.check_x64()
  out_dir = paths.results_dir(profile) / module.NAME
  ckpt_root = paths.checkpoints_dir(profile) / module.NAME
  _check_folders(out_dir, ckpt_root)
  for folder in (out_dir.parent, out_dir):  # staging folders are made beside out_dir
    _check_writable(folder, "results")
  _check_writable(ckpt_root, "checkpoints")
  runtime.setup_jax()
  # Before training, on an idle machine: what summary.md reads the engine's GFLOP/s against.
  peak = runtime.matmul_peak_gflops() if profile == paths.FULL else None
  # One writer per experiment (render waits for it too); the processes of one multi-host run
  # share the folders, and the main process holds the lock for all of them.
  held = lock.hold(ckpt_root, module.NAME) if sharding.is_main_process() else contextlib.nullcontext()
  with held:
    _clean_leftovers(out_dir, ckpt_root)
    ctx = Context(module.NAME, cfg, ckpt_root, progress)
    start = time.time()
    try:
      with faults.reported(f"training {module.NAME}", ckpt_root):
        res = module.run(cfg, ctx)
    finally:
      ctx.close()
    wall = time.time() - start
    title = module.title(cfg) if hasattr(module, "title") else module.TITLE  # of what this config ran
    doc = dict(experiment=module.NAME, title=title, profile=profile, config=cfg.to_dict(),
               environment=dict(results.environment(), peak_gflops=peak), wall_s=wall,
               finished=time.strftime("%Y-%m-%d %H:%M:%S %Z"), cells=ctx.cells, results=res)
    doc = seal(results.clean_json(doc))
    if sharding.is_main_process():  # one host writes the results
      files = {"results.json": (results.dumps(doc) + "\n").encode(), **output_files(module, doc)}
      publish(files, out_dir)
  return out_dir, wall


def render(name, profile=paths.FULL):
  """Rewrites results/NAME/'s tables, reading and plots from its results.json (no training)."""
  module = registry.resolve(name)
  out_dir = paths.results_dir(profile) / module.NAME
  path = out_dir / "results.json"
  check_folder(out_dir)
  _check_folders(out_dir, paths.checkpoints_dir(profile) / module.NAME)
  # Under the experiment's lock: a run finishing meanwhile would otherwise be replaced by this
  # render of the results.json it superseded.
  with lock.hold(paths.checkpoints_dir(profile) / module.NAME, module.NAME):
    path = recover(out_dir) / "results.json"
    raw = read_raw(path)
    doc = read_doc(path, raw)
    try:
      files = output_files(module, doc)
    except (KeyError, TypeError, IndexError, ValueError) as e:
      raise UserError(f"{path} does not hold what {module.NAME}'s tables need ({type(e).__name__}: {e}); "
                      "run the experiment again to rewrite it") from None
    publish({"results.json": raw, **files}, out_dir)
  return out_dir
