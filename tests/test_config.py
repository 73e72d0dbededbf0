import re

import pytest

from experiments import depth_vs_accuracy, pruning
from research.cli import config
from research.system.errors import UserError


def cfg(*args, profile="full"):
  c = config.with_profile(depth_vs_accuracy, profile)
  return config.apply_overrides(c, list(args))


def test_overrides_take_the_default_type():
  c = cfg("--config.epochs=3", "--config.learning_rates=[1e-2,3e-3]", "--config.depths=[1,2]",
          "--config.variants=['mlp']", "--config.activation=tanh", "--config.warmup_epochs=1")
  assert c.epochs == 3 and list(c.learning_rates) == [0.01, 0.003] and list(c.depths) == [1, 2]
  assert c.warmup_epochs == 1.0
  assert list(c.variants) == ["mlp"] and c.activation == "tanh"
  lottery = config.apply_overrides(config.with_profile(pruning, "full"), ["--config.lottery=false"]).lottery
  assert lottery is False
  assert list(cfg("--config.learning_rates=1").learning_rates) == [1.0]  # an int where a float is expected
  assert list(cfg("--config.depths=4").depths) == [4]
  # names need no quotes on a command line
  assert list(cfg("--config.variants=[mlp,residual_mlp]").variants) == ["mlp", "residual_mlp"]
  assert list(cfg("--config.variants=mlp").variants) == ["mlp"]


def test_quick_profile_overrides_the_defaults():
  assert cfg(profile="quick").epochs < cfg().epochs


@pytest.mark.parametrize("arg,message", [
    ("--config.epoch=3", "unknown config key 'epoch' (did you mean 'epochs'?)"),
    ("--config.epochs=three", "expected an integer"),
    ("--config.epochs=2.5", "expected an integer"),
    ("--config.depths=[1,'a']", "expected an integer"),
    ("--config.epochs", "has no value"),
    ("--epochs=3", "overrides look like --config.KEY=VALUE"),
])
def test_bad_overrides_fail_with_one_clear_line(arg, message):
  with pytest.raises(UserError, match=re.escape(message)):
    cfg(arg)


def test_a_bool_key_takes_true_or_false_only():
  with pytest.raises(UserError, match="expected true or false"):
    config.apply_overrides(config.with_profile(pruning, "full"), ["--config.lottery=maybe"])


def test_unknown_profile():
  with pytest.raises(UserError, match="unknown profile 'fast'; valid: full, quick"):
    config.with_profile(depth_vs_accuracy, "fast")
