"""Let the machine decide how many layers and how to connect them: architecture search with the engine.

  make search                      # full profile, 10 min on 2 CPU cores (see Expect)
  make search PROFILE=quick        # a smoke run of the same pipeline
  make search ARGS="--config.tasks=[sawtooth:4] --config.halving_candidates=64"

The search space: MLPs of 0 to max_depth hidden layers, each layer's width from a set, each
hidden-to-hidden layer plain or residual (a zero-padded shortcut where the width changes), one
activation from a small set, and the learning rate. Candidates of different architectures train
together as members of one masked supernet (experiments/search/supernet.py: the architecture is data, so one
compiled program and one map/vmap serve the whole population; a test checks that a member computes
exactly what its standalone network computes). Strategies (strategies.py), each selecting on the
validation split only: random search; successive halving over a larger population, the engine's
chunks as rungs (research/engine/halving.py); and the depth experiment's hand grid. Each pick is retrained
from scratch as its standalone network over fresh seeds and read once on test; the compute of each
search is counted as executed (the supernet's shape for every member) and as the candidates' own.

Tasks: Fashion-MNIST at 28x28 and 16x16 (a stratified training subset of n_train images, stated in
the table's data), where depth does not pay (the depth experiment), and Telgarsky's sawtooth, where
it can (the depth_pays experiment).

Expect (full, 2026-11-29: 10.4 min on 2 idle CPU cores): on Fashion-MNIST (28x28 and 16x16) deep
candidates beat shallow ones on validation by under a point and the picks are mixed (random search
7 and 8 layers, successive halving 2 and 2); on the sawtooth (2^4 pieces) deep wins on validation
(96.5% vs 56.0% for 0-1 hidden layers) and both searches pick 4-7 layers. Retrained over 3 seeds, no
pick is resolved against the hand grid's on test (-1.2 to +0.3 points on Fashion-MNIST; the sawtooth
picks at 51% and 79% against the grid's 92%, p = 0.054 and 0.69 after Holm), and no interval rules
out a loss of a point, so "as good" is not shown at 3 seeds. Every search executed more FLOPs than
the grid (1.2-2.8x): a supernet member computes 8 x 256 whatever its architecture (5.3-10.7x its own
FLOPs), though successive halving ran half the grid's model-epochs. Candidates per CPU-minute: random
search about 11, successive halving about 40 on Fashion-MNIST (92 and 236 on the sawtooth).
"""
import ml_collections

from research.cli import config
from research.data import synthetic
from research.engine import halving
from research.system import limits
from experiments.search import supernet

from experiments.search import report, space, strategies

NAME = "search"
ALIAS = "nas"
ORDER = 9
TITLE = "Architecture search with the engine: random search, successive halving and the hand grid"


def get_config():
  c = ml_collections.ConfigDict()
  c.val_size = 5000
  c.epochs = 20              # the maximum; patience ends a member earlier
  c.patience = 3
  c.schedule = "constant"
  c.warmup_epochs = 0.0
  c.optimizer = "adam"       # no weight decay: a member's architecture lives in its (never trained) parameters
  c.batch_size = 128
  # Tasks: a dataset name, '@S' for images resized to S x S.
  c.tasks = ["fashion_mnist", "fashion_mnist@16", "sawtooth:4"]
  c.n_train = 10000          # images: a stratified subset of the training split (0: all)
  c.synthetic_n_train = 0    # synthetic tasks: all 20,000 points left after the validation split
  # The space
  c.max_depth = 8
  c.widths = [32, 64, 128, 256]
  c.synthetic_widths = [4, 8, 16, 32]
  c.activations = ["relu", "tanh", "gelu"]
  c.learning_rates = [3e-4, 1e-3, 3e-3, 1e-2]
  c.residual_p = 0.5         # each hidden-to-hidden layer residual with this probability
  c.search_seed = 0          # the stream candidates are drawn from
  # Strategies
  c.random_candidates = 16
  c.halving_candidates = 32
  c.rungs = [1, 2, 4]        # epochs after which successive halving cuts
  c.keep = 0.5
  c.grid_depths = [0, 1, 2, 4, 8]
  c.grid_width = 256
  c.synthetic_grid_width = 32
  c.grid_learning_rates = [1e-3, 3e-3]
  # Retraining the picks, and the plots
  c.seeds = 3
  c.retrain_seed = 1000      # the picks' seeds: none of the search's
  c.top_k = 5
  c.layout = "map"           # a stopped member's epochs cost nothing under map (vmap runs them)
  c.chunk_epochs = 1         # the stopping rule and the rungs are checked between chunks
  c.checkpoint_every_s = 60.0
  c.shard = "auto"
  return c


PROFILES = {
    "quick": dict(val_size=1000, n_train=3000, epochs=6, patience=2, seeds=2, random_candidates=6,
                  halving_candidates=8, rungs=[1, 2], grid_depths=[0, 1, 4], grid_width=64, widths=[16, 32, 64],
                  max_depth=4, synthetic_n_train=3000, tasks=["fashion_mnist@16", "sawtooth:3"]),
    "tiny": dict(val_size=100, n_train=400, epochs=3, patience=2, seeds=2, random_candidates=4, halving_candidates=6,
                 rungs=[1], grid_depths=[0, 2], grid_width=16, widths=[8, 16], synthetic_widths=[4, 8], max_depth=3,
                 learning_rates=[1e-3, 1e-2], grid_learning_rates=[1e-2], batch_size=32, top_k=3, synthetic_n_train=400,
                 tasks=["digits", "sawtooth:3"]),
}


def validate(cfg):
  config.nonempty(cfg, "tasks", "widths", "synthetic_widths", "activations", "learning_rates", "grid_depths",
                  "grid_learning_rates")
  config.positive(cfg, "widths", "synthetic_widths", "grid_width", "synthetic_grid_width", "random_candidates",
                  "halving_candidates", "rungs", "top_k")
  config.non_negative(cfg, "max_depth", "grid_depths")
  config.one_of(cfg, "optimizer", ("adam", "sgd"))
  config.require(0 < cfg.keep < 1, f"config keep={cfg.keep}: a fraction between 0 and 1")
  config.require(list(cfg.rungs) == sorted(set(cfg.rungs)) and max(cfg.rungs) < cfg.epochs,
                 f"config rungs={list(cfg.rungs)}: increasing epochs under epochs={cfg.epochs}")
  config.require(max(cfg.grid_depths) <= cfg.max_depth, f"config grid_depths={list(cfg.grid_depths)}: the grid "
                 f"must lie in the space (max_depth={cfg.max_depth})")
  for a in cfg.activations:
    config.require(a in supernet.SEARCH_ACTIVATIONS, f"config activations: '{a}' is not one of "
                   f"{', '.join(supernet.SEARCH_ACTIVATIONS)}")
  for key in ("tasks", "widths", "synthetic_widths", "learning_rates", "grid_depths", "grid_learning_rates"):
    config.require(len(set(cfg[key])) == len(cfg[key]), f"config {key}={list(cfg[key])}: a value twice")
  space.check_budget(cfg, tasks(cfg))


def _task_name(name):
  """(dataset, resize) of a task 'NAME' or 'NAME@S', checked as a dataset and a resize are (limits.BOUNDS)."""
  dataset, at, size = name.partition("@")
  config.check_dataset(dataset, key=f"tasks: '{name}', dataset")
  if not at:
    return dataset, 0
  limit = limits.BOUNDS["resize"]
  config.require(size.isascii() and size.isdigit() and 1 <= int(size) <= limit,
                 f"config tasks: '{name}': write NAME@S with S the image side, 1 to {limit}")
  config.require(synthetic.parse(dataset) is None, f"config tasks: '{name}': {dataset} is not images; "
                 "only image datasets take @S")
  return dataset, int(size)


def tasks(cfg):
  """Each task's data and its widths: {name, key (for cell names), dataset, resize, n_train, widths, grid_width}."""
  out = []
  for name in cfg.tasks:
    dataset, size = _task_name(name)
    generated = synthetic.parse(dataset) is not None
    out.append(dict(name=name, key=name.replace(":", "").replace("@", "-"), dataset=dataset,
                    resize=size, n_train=cfg.synthetic_n_train if generated else cfg.n_train,
                    widths=list(cfg.synthetic_widths if generated else cfg.widths),
                    grid_width=cfg.synthetic_grid_width if generated else cfg.grid_width))
  return out


def run_task(cfg, ctx, task):
  ds, arrays = ctx.data(task["dataset"], resize=task["resize"], val_size=cfg.val_size, n_train=task["n_train"])
  k = ds.num_classes
  cands = space.sample(cfg, task["widths"], max(cfg.random_candidates, cfg.halving_candidates))
  cache = {}
  found = {"random": strategies.population(cfg, ctx, task, arrays, k, cands[:cfg.random_candidates], "random",
                                           cache=cache),
           "halving": strategies.population(cfg, ctx, task, arrays, k, cands[:cfg.halving_candidates], "halving",
                                            halving.Rungs(tuple(cfg.rungs), cfg.keep), cache),
           "grid": strategies.grid(cfg, ctx, task, arrays, k, space.hand_grid(cfg, task["grid_width"]), cache)}
  picks, retrained = {}, {}
  for s, rec in found.items():
    cand, best = strategies.pick(rec)
    if cand is None:  # every candidate diverged: no pick, nothing retrained (the report says so)
      continue
    picks[s] = dict(best, candidate=cand.to_json())
    retrained[s] = strategies.retrain(cfg, ctx, task, arrays, k, cand)
  return dict(task=task["name"], dataset=ds.describe(), space_size=space.space_size(cfg, task["widths"]),
              strategies=found, picks=picks, retrained=retrained)


def run(cfg, ctx):
  grid_cells = len(space.hand_grid(cfg, 1))
  ctx.plan(len(cfg.tasks) * (2 + grid_cells + len(strategies.STRATEGIES)))
  return dict(tasks=[run_task(cfg, ctx, t) for t in tasks(cfg)])


def table(doc):
  return report.table(doc["config"], dict(doc["results"], devices=doc["environment"].get("devices", "the CPU")))


def plots(doc):
  return report.plots(doc["config"], doc["results"])


def reading(doc):
  return "\n".join(report.reading(doc["config"], doc["results"]))


def title(cfg):
  return (f"Architecture search with the engine: MLPs of 0-{cfg.max_depth} hidden layers on "
          f"{', '.join(cfg.tasks)}; random search, successive halving, and the hand grid")


__all__ = ["NAME", "ALIAS", "ORDER", "TITLE", "PROFILES", "get_config", "validate", "run", "table", "plots",
           "reading", "title", "tasks"]
