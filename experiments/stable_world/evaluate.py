"""The experiment's cells and their corrupted test sets: every contender trained on clean images under
one protocol, its selected members then evaluated once on every corrupted copy of the test set."""
import jax
import numpy as np

from research import data as data_lib, models
from research.report import protocol
from research.engine import train, tuning

from experiments.stable_world import corruptions


def recipe(cfg, dataset):
  """The keys a dataset trains by: the top level for mnist16, fashion_mnist.* for Fashion-MNIST."""
  return cfg.fashion_mnist if dataset == "fashion_mnist" else cfg


def build(cfg, name, num_classes):
  """(model, label) of a contender: the registered model and options of cfg.models[name]."""
  options = cfg.models[name].to_dict()
  model = options.pop("model")
  return models.build(model, num_classes, **options), models.label(model, options)


def corrupted_sets(cfg, ds, raw_x):
  """{corruption: standardized test images on the device} and, per corruption, its severity, parameter
  and the sha256 of the corrupted raw images (what results.json records of their content)."""
  arrays, content = {}, {}
  for name in cfg.corruptions:
    x_c = corruptions.corrupt(name, raw_x, cfg.corruption_seed)
    severity, parameter = corruptions.PARAMETERS[name]
    content[name] = dict(severity=severity, parameter=parameter, sha256=corruptions.digest(x_c))
    # Through the dataset's own standardization: the training set's mean and std, as the clean test set.
    arrays[name] = jax.device_put(ds.standardize(x_c))
  return arrays, content


def _chosen(hparams, lr):
  return np.array([i for i, hp in enumerate(hparams) if hp["learning_rate"] == lr])


def evaluate_members(trainer, state, members, sets, y):
  """{corruption: per-member test accuracy} of the selected (best-validation) parameters of `members`,
  with their batch-norm running statistics where the model has them. One member at a time: on CPU a
  program vmapped over members costs a batch-norm CNN several times more per image (batched matmuls)."""
  evaluate = jax.jit(trainer.evaluate)  # compiled once: every set has the same shape
  params, model_state = train.selected(state), train.selected_state(state)
  take = lambda tree, i: None if tree is None else jax.tree.map(lambda a: a[i], tree)
  out = {name: [] for name in sets}
  for i in members:
    p, s = take(params, i), take(model_state, i)
    for name, x in sets.items():
      out[name].append(float(evaluate(p, x, y, s)[1]))
  return out


def test_subset(arrays, raw_x, size, seed=0):
  """(arrays with x_test / y_test cut to a fixed random `size` of the test images, raw_x cut alike, the
  positions kept); chosen by position, never by label. size 0: all."""
  n = len(raw_x)
  if not size or size >= n:
    return arrays, raw_x, None
  keep = np.sort(np.random.default_rng(seed).permutation(n)[:size])
  return dict(arrays, x_test=arrays["x_test"][keep], y_test=arrays["y_test"][keep]), raw_x[keep], keep


def _tuned_cells(cfg, ctx, trainer, arrays, name, spec, epochs):
  """[(CellResult, hparams)]: one cell over the grid, then, while the value chosen on validation is the
  grid's smallest or largest, a cell of the next 1-3-10 value beyond it (research/engine/tuning.py; at most
  cfg.extend of them). Every contender gets this rule."""
  seeds, hparams = protocol.grid(cfg.learning_rates, range(cfg.seeds))
  parts = [(ctx.cell(trainer, arrays, name=name, spec=spec, seeds=seeds, hparams=hparams, epochs=epochs,
                     need_state=True), hparams)]
  for _ in range(cfg.extend):
    tried = sorted({hp["learning_rate"] for _, hps in parts for hp in hps})
    beyond = tuning.next_out(tried, tuning.chosen(tuning.merge([out.summary for out, _ in parts])))
    if beyond is None:
      break
    extra = [{"learning_rate": beyond}] * cfg.seeds
    parts.append((ctx.cell(trainer, arrays, name=f"{name}-lr{beyond:g}", spec=spec, seeds=list(range(cfg.seeds)),
                           hparams=extra, epochs=epochs, need_state=True), extra))
  return parts


def run_dataset(cfg, ctx, dataset):
  r = recipe(cfg, dataset)
  ds, arrays = ctx.data(dataset, n_train=r.n_train, val_size=r.val_size)
  raw_x = data_lib.load_raw(dataset).x_test  # the raw images ds.x_test was standardized from
  arrays, raw_x, keep = test_subset(arrays, raw_x, r.get("test_size", 0))
  described = dict(ds.describe(), n_test=len(raw_x), test_subset=keep is not None)
  sets, content = corrupted_sets(cfg, ds, raw_x)
  rows = []
  for name in cfg.contenders:
    model, label = build(cfg, name, ds.num_classes)
    trainer = ctx.trainer(model, batch_size=r.batch_size, epochs=r.epochs)
    spec = dict(contender=name, model=label, dataset=described, optimizer=cfg.optimizer, batch_size=r.batch_size)
    parts = _tuned_cells(cfg, ctx, trainer, arrays, f"{dataset}-{name}", spec, r.epochs)
    tried = sorted({hp["learning_rate"] for _, hps in parts for hp in hps})
    row = dict(contender=name, model=label, **models.describe(model, ds.shape),
               **protocol.tuned(tuning.merge([out.summary for out, _ in parts])), tried=tried)
    # The members of the learning rate chosen on validation: the row's members, in seed order.
    lr = row["learning_rate"]
    out, hparams = next((out, hps) for out, hps in parts if any(hp["learning_rate"] == lr for hp in hps))
    row["corrupted_test_acc"] = evaluate_members(trainer, out.state, _chosen(hparams, lr), sets, arrays["y_test"])
    rows.append(row)
  return dict(dataset=described, epochs=r.epochs, batch_size=r.batch_size, learning_rates=list(cfg.learning_rates),
              corruptions=content, clean_sha256=corruptions.digest(np.asarray(raw_x, np.float32)),
              rows=rows)


def run(cfg, ctx):
  ctx.plan(len(cfg.datasets) * len(cfg.contenders))
  return dict(datasets={d: run_dataset(cfg, ctx, d) for d in cfg.datasets})
