"""deep_vs_wide under the protocol: no choice reads the test set, and the reading calls a difference
only through one Holm-corrected family."""


from experiments import deep_vs_wide as wide

def _cell(val, test, lr=1e-3):
  n = len(test)
  return dict(shape="?", val_acc=list(val), test_acc=list(test), train_acc=[1.0] * n, best_epoch=[3] * n,
              stopped=[True] * n, diverged=[v is None for v in test], learning_rate=lr, params=1000, max_epochs=10)


def _row(depth, deep, shallow=None):
  deep = dict(deep, shape=f"{depth} x 8")
  shallow = deep if shallow is None else dict(shallow, shape="1 x 9")
  return dict(depth=depth, deep=deep, shallow=shallow)


def _doc():
  """Five seeds; at L = 2 the deep net is far ahead, at L = 3 the pair is a tie, at L = 4 the deep net
  diverged. On test L = 3 is the best deep net, on validation L = 2."""
  ahead = _cell([0.90] * 5, [0.90, 0.901, 0.899, 0.902, 0.898])
  behind = _cell([0.80] * 5, [0.80, 0.801, 0.799, 0.802, 0.798])
  tie_a = _cell([0.85] * 5, [0.93, 0.91, 0.95, 0.92, 0.94])
  tie_b = _cell([0.85] * 5, [0.92, 0.94, 0.93, 0.95, 0.91])
  lost = _cell([None] * 5, [None] * 5)
  one = _cell([0.70] * 5, [0.70, 0.701, 0.699, 0.702, 0.698])
  ds = dict(name="toy", shape=[4, 4, 1], num_classes=10, n_train=100, n_val=20, n_test=50)
  rows = [_row(1, one), _row(2, ahead, behind), _row(3, tie_a, tie_b), _row(4, lost, behind)]
  table = dict(resolution=4, dataset=ds, max_epochs=10, rows=rows)
  small = dict(n_train=10, resolution=4, max_epochs=30, max_steps=30, **_row(2, behind, ahead))
  full = dict(n_train=100, resolution=4, max_epochs=10, max_steps=30, **rows[1])
  cfg = dict(seeds=5, learning_rates=[1e-3, 3e-3], optimizer="adam", batch_size=8, epochs=10, patience=3,
             schedule="constant", warmup_epochs=0.0, hunger_depth=0, hunger_resolution=4, val_size=20,
             min_steps=30, hunger_n_train=[10, 0], width=8)
  res = dict(tables=[table], hunger=[small, full], selected=dict(best_depth={"4": wide.best_depth(rows)},
                                                                   hunger_depth=wide.best_depth(rows, 2)))
  return dict(config=cfg, results=res, environment=dict(devices="1 x cpu"))


def test_best_depth_is_chosen_on_validation():
  doc = _doc()
  assert doc["results"]["selected"] == dict(best_depth={"4": 2}, hunger_depth=2)


def test_one_family_holm_corrected_and_diverged_rows_left_out():
  doc = _doc()
  tests = wide.comparisons(doc["results"])
  # L = 2 and L = 3 pairs, the small data-hunger pair, best (L = 2) vs L = 1; the full-data hunger
  # pair is the table's pair, the diverged L = 4 pair is not compared
  assert set(tests) == {("pair", 4, 100, 2), ("pair", 4, 100, 3), ("pair", 4, 10, 2), ("deeper", 4)}
  assert all(c.p_holm >= c.p for c in tests.values())
  assert tests[("pair", 4, 100, 2)].resolved and not tests[("pair", 4, 100, 3)].resolved
  text = wide.reading(doc)
  assert "Holm-corrected over the 4 comparisons" in text
  assert "3 x 8 vs 1 x 9: not resolved at 5 seeds" in text
  assert "deep diverged (5 of 5)" in text
  assert "Deep ahead in 1, not resolved in 1, diverged in 1 of 3 pairs" in text
  assert "best deep net on validation is 2 x 8" in text
  assert "shallow net leads on the smallest set (n=10), resolved" in text
  table = wide.table(doc).markdown()
  assert "over the 4 comparisons" in table and "| diverged |" in table
