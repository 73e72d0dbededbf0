"""Architecture search: the space, the hand grid, the compute accounting, and a tiny run end to end
(tests/test_supernet.py checks the supernet's members against their standalone networks)."""
import json

import numpy as np
import pytest

from research import models
from research.system import registry
from experiments.search import supernet
from experiments import search
from experiments.search import accounting, space


def _cfg(**over):
  cfg = search.get_config()
  for k, v in over.items():
    cfg[k] = v
  return cfg


def test_candidates_are_a_seeded_stream_of_canonical_distinct_architectures():
  cfg = _cfg()
  a, b = space.sample(cfg, cfg.widths, 8), space.sample(cfg, cfg.widths, 16)
  assert a == b[:8] and len(set(b)) == 16  # a larger population starts with the smaller one
  assert a != space.sample(cfg, cfg.widths, 8, seed=1)
  for c in b:
    assert c.arch == c.arch.canonical() and 0 <= c.arch.depth <= cfg.max_depth
    assert set(c.arch.widths) <= set(cfg.widths) and c.learning_rate in cfg.learning_rates
    assert not c.arch.residual or not c.arch.residual[0]
  assert space.Candidate.from_json(json.loads(json.dumps(b[3].to_json()))) == b[3]
  assert space.space_size(cfg, cfg.widths) == 4 * (1 + sum(4 * 8 ** (d - 1) * 3 for d in range(1, 9)))  # 115M


def test_the_hand_grid_is_the_depth_experiments_nets():
  cfg = _cfg(grid_depths=[0, 1, 2, 4])
  grid = space.hand_grid(cfg, 8)
  assert [(a.depth, any(a.residual)) for a in grid] == [(0, False), (1, False), (2, False), (2, True), (4, False),
                                                        (4, True)]
  same = {(4, False): models.mlp(10, depth=4, width=8), (4, True): models.residual_mlp(10, depth=4, width=8),
          (0, False): models.logistic(10)}
  for a in grid:
    if (a.depth, any(a.residual)) in same:
      assert models.same_function(supernet.arch_net(10, a), same[(a.depth, any(a.residual))], (12,))


def test_anytime_is_cumulative_compute_and_the_best_validation_so_far():
  h = lambda loss, val: dict(train_loss=loss, val_acc=val)
  pop = [h([1.0, 1.0, None], [0.5, 0.7, None]), h([1.0, 1.0, 1.0], [0.6, 0.65, 0.8])]
  grid = [h([1.0], [0.9])]
  pts = accounting.anytime([(pop, 1e9), (grid, 2e9)])
  assert pts == [(2.0, 0.6), (4.0, 0.7), (5.0, 0.8), (7.0, 0.9)]
  bill = accounting.compute([dict(train_s=30.0, compile_s=30.0)], 5, 5e9, 2e9, 4)
  assert accounting.per_minute(bill) == 4.0 and bill["executed_gflop"] == 5.0 and bill["own_gflop"] == 2.0


def test_search_is_an_experiment_and_a_make_target():
  assert registry.resolve("nas") is search and "search" in registry.names()


@pytest.mark.slow
def test_tiny_run_writes_tables_plots_and_a_reading(tiny_paper):
  out, doc = tiny_paper.run("search")
  res, cfg = doc["results"], doc["config"]
  assert [t["task"] for t in res["tasks"]] == cfg["tasks"]
  for t in res["tasks"]:
    assert set(t["strategies"]) == {"random", "halving", "grid"}
    rand, halv = t["strategies"]["random"], t["strategies"]["halving"]
    assert rand["compute"]["candidates"] == cfg["random_candidates"]
    assert halv["compute"]["candidates"] == cfg["halving_candidates"]
    # Successive halving: after the first rung only ceil(keep x n) members still train.
    ran_2nd = sum(r["epochs_ran"] >= 2 for r in halv["records"])
    assert ran_2nd <= int(np.ceil(cfg["keep"] * cfg["halving_candidates"]))
    # The supernet executes its full shape for every member: at least the candidates' own FLOPs.
    assert rand["compute"]["executed_gflop"] >= rand["compute"]["own_gflop"] > 0
    grid = t["strategies"]["grid"]["compute"]
    assert abs(grid["executed_gflop"] - grid["own_gflop"]) <= 1e-6 * grid["own_gflop"]  # standalone: one and the same
    for s, r in t["retrained"].items():
      assert len(r["test_acc"]) == cfg["seeds"]
      pick = t["picks"][s]
      assert pick["val_acc"] == max(x["val_acc"] for x in t["strategies"][s]["records"])  # chosen on validation
  table = (out / "table.md").read_text()
  assert sum(line.startswith("|---") for line in table.splitlines()) == 1 and "candidates / CPU-min" in table and "±" in table
  text = (out / "reading.md").read_text()
  assert "candidates per CPU-minute" in text and "Li and Talwalkar 2019" in text
  assert all((out / f).stat().st_size > 5_000 for f in ("anytime.png", "depths.png"))
