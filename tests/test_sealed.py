"""No stale or forged number is published: a cell's identity covers its inputs and the model's own
programs (tests/test_cell_identity.py), the engine that turns them into reported numbers is held to its
golden numbers by ENGINE_VERSION (tests/test_golden.py), the data cache is keyed by the code that
prepares it, and every number on disk is sealed with a digest that reuse and rendering check."""
import json
import pathlib
import shutil

import jax
import numpy as np
import pytest

from research.engine import cells, identity, train
from research.system import codehash, sealed
from research import data, models
from research.cli import experiment
from research.report import paper as report
from research.system.errors import UserError

ROOT = pathlib.Path(__file__).resolve().parent.parent
HP = {"learning_rate": 1e-2}


def _trainer(patience=2):
  return train.make_trainer(models.build("mlp", 4, depth=1, width=8), "adam", 32, patience=patience)


def _cell(tiny, root, name="c", trainer=None, **kw):
  return cells.run_cell(trainer or _trainer(), tiny, name=name, spec={}, seeds=[0, 1], hparams=[HP, HP], epochs=3,
                        root=root, progress=False, checkpoint_every_s=0, **kw)


def _key(tiny, trainer=None):
  return cells.identity(trainer or _trainer(), tiny, seeds=[0, 1], hparams=[HP, HP], epochs=3)[0]


def test_the_final_evaluation_is_part_of_the_identity(tiny):
  before = _key(tiny)
  top2 = lambda logits, y: (jax.numpy.argsort(logits, -1)[..., -2:] == y[:, None]).any(-1).astype(float)
  other = train.make_trainer(models.build("mlp", 4, depth=1, width=8), "adam", 32, patience=2, correct_fn=top2)
  assert _key(tiny, other) != before


def test_comments_and_docstrings_are_not_part_of_the_data_caches_code_hash():
  def a(x):
    """One thing."""
    return x + 1  # a comment

  def b(x):
    """Another docstring entirely."""

    return x + 1
  assert codehash.code_hash(a, unnamed=True) == codehash.code_hash(b, unnamed=True)
  assert codehash.code_hash(a, unnamed=True) != codehash.code_hash(lambda x: x + 2, unnamed=True)


@pytest.mark.slow
def test_an_edited_result_json_is_never_republished(tiny, tmp_path, capfd):
  first = _cell(tiny, tmp_path)
  (path,) = tmp_path.glob("c-*/result.json")
  doc = json.loads(path.read_text())
  doc["members"][0]["final"]["test_acc"] = 0.123456
  path.write_text(json.dumps(doc))
  again = _cell(tiny, tmp_path)
  assert "numbers do not match their seal" in capfd.readouterr().err
  assert again.summary.final("test_acc") == first.summary.final("test_acc")
  assert 0.123456 not in again.summary.final("test_acc")
  # Re-evaluated from the sealed checkpoint, not retrained: and sealed again.
  assert identity.seal_problem(json.loads(path.read_text()), path.parent.name.rsplit("-", 1)[1]) is None


def test_a_result_json_without_a_seal_is_evaluated_again(tiny, tmp_path, capfd):
  first = _cell(tiny, tmp_path)
  (path,) = tmp_path.glob("c-*/result.json")
  doc = json.loads(path.read_text())
  del doc["seal"]
  path.write_text(json.dumps(doc))
  again = _cell(tiny, tmp_path)
  assert "carries no seal" in capfd.readouterr().err and not again.summary.reused
  assert again.summary.final("test_acc") == first.summary.final("test_acc")


@pytest.mark.slow
def test_a_folder_copied_from_another_cell_is_not_that_cell(tiny, tmp_path, capfd):
  other = train.make_trainer(models.build("mlp", 4, depth=2, width=8), "adam", 32, patience=2)
  ref = _cell(tiny, tmp_path / "ref")
  _cell(tiny, tmp_path, name="deep", trainer=other)
  target = tmp_path / f"c-{_key(tiny)}"
  shutil.copytree(next(tmp_path.glob("deep-*")), target)  # deep's folder under c's name
  out = _cell(tiny, tmp_path)
  err = capfd.readouterr().err
  assert "another cell's identity.json" in err and not out.summary.reused
  assert out.summary.final("test_acc") == ref.summary.final("test_acc")


@pytest.mark.slow
def test_another_cells_result_json_is_refused_by_its_seal(tiny, tmp_path, capfd):
  other = train.make_trainer(models.build("mlp", 4, depth=2, width=8), "adam", 32, patience=2)
  ref = _cell(tiny, tmp_path)
  _cell(tiny, tmp_path, name="deep", trainer=other)
  target = tmp_path / f"c-{_key(tiny)}"
  shutil.copy(next(tmp_path.glob("deep-*")) / "result.json", target / "result.json")
  out = _cell(tiny, tmp_path)
  assert "computed for another cell" in capfd.readouterr().err
  assert out.summary.final("test_acc") == ref.summary.final("test_acc")


def test_the_data_cache_is_keyed_by_the_code_that_prepares_it(tmp_path, monkeypatch):
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(tmp_path))
  data.load_raw.cache_clear()
  first = data.cache_path("digits")
  monkeypatch.setattr(data, "_preparation_code", lambda: "edited")
  assert data.cache_path("digits") != first and "edited" in data.cache_path("digits").name


@pytest.mark.parametrize("damage", ["garbage", "truncate", "swap_labels"])
def test_a_damaged_data_cache_is_rebuilt_with_one_line(tmp_path, monkeypatch, capfd, damage):
  monkeypatch.setenv("RESEARCH_CACHE_DIR", str(tmp_path))
  good = data._parsed("digits")
  cache = data.cache_path("digits")
  if damage == "garbage":
    cache.write_bytes(b"not a zip file at all")
  elif damage == "truncate":
    cache.write_bytes(cache.read_bytes()[:1000])
  else:  # a valid npz whose arrays are not the ones written
    with np.load(cache) as z:
      arrays = dict(z)
    arrays["y_train"] = arrays["y_train"][::-1].copy()
    np.savez(cache, **arrays)
  capfd.readouterr()
  again = data._parsed("digits")
  err = capfd.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith("the data cache ") and err[0].endswith("rebuilding it")
  assert np.array_equal(again.y_train, good.y_train) and np.array_equal(again.x_test, good.x_test)
  assert data._read_cache(cache) is not None  # rewritten whole


@pytest.fixture
def committed(tmp_path, monkeypatch):
  """A results folder holding a copy of one committed experiment's full results."""
  monkeypatch.setenv("RESEARCH_RESULTS_DIR", str(tmp_path / "results"))
  monkeypatch.setenv("RESEARCH_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
  shutil.copytree(ROOT / "results" / "learning_rate", tmp_path / "results" / "learning_rate")
  return tmp_path / "results" / "learning_rate"


def test_every_committed_results_json_matches_its_digest():
  for path in sorted((ROOT / "results").glob("*/results.json")):
    sealed.read_doc(path)


def test_an_edited_results_json_is_not_rendered_or_reported(committed, capfd):
  path = committed / "results.json"
  table = (committed / "table.md").read_text()
  experiment.render("learning_rate")  # sealed: renders the same table
  assert (committed / "table.md").read_text() == table
  doc = json.loads(path.read_text())
  doc["results"]["optimizers"] = doc["results"]["optimizers"] if "optimizers" in doc["results"] else None
  text = path.read_text()
  first_number = next(k for k in ("0.8", "0.7", "0.9") if k in text)
  path.write_text(text.replace(first_number, "0.1", 1))
  with pytest.raises(UserError, match="does not match its digest"):
    experiment.render("learning_rate")
  assert (committed / "table.md").read_text() == table  # nothing was rewritten
  capfd.readouterr()
  written = report.write("full")
  err = capfd.readouterr().err.strip().splitlines()
  assert len(err) == 1 and "does not match its digest" in err[0]
  text = written.read_text()
  assert "**Not reported:** the results.json of learning_rate" in text and table.strip() not in text


def test_the_engine_version_is_part_of_the_identity(tiny, monkeypatch):
  before = _key(tiny)
  monkeypatch.setattr(identity, "ENGINE_VERSION", identity.ENGINE_VERSION + 1)
  assert _key(tiny) != before


@pytest.mark.slow
def test_a_partial_checkpoint_copied_from_another_cell_is_not_resumed(tiny, tmp_path, capfd):
  """Same shapes, another learning rate: the checkpoint would restore; its folder's lack of this cell's
  identity.json is what refuses it."""
  ref = _cell(tiny, tmp_path / "ref")
  faster = dict(learning_rate=3e-2)
  cells.run_cell(_trainer(), tiny, name="fast", spec={}, seeds=[0, 1], hparams=[faster, faster], epochs=3,
                 root=tmp_path, progress=False, checkpoint_every_s=0)
  target = tmp_path / f"c-{_key(tiny)}"
  shutil.copytree(next(tmp_path.glob("fast-*")), target)
  (target / "result.json").unlink()
  (target / "identity.json").unlink()
  out = _cell(tiny, tmp_path)
  assert "holds work but no identity.json" in capfd.readouterr().err
  assert out.summary.final("test_acc") == ref.summary.final("test_acc")
