"""The masked supernet: a member computes exactly what the standalone network of its architecture
computes (init, outputs, gradients, and whole training epochs through the engine), and the
successive-halving cut the engine applies between chunks."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.engine import cells, halving, train
from research import models
from experiments.search import supernet
from experiments.search.supernet import Arch

ARCHS = [Arch(), Arch((16,), (False,), "relu"), Arch((8, 16, 16, 4), (False, True, True, True), "tanh"),
         Arch((16, 8, 12), (False, False, True), "gelu"), Arch((4, 4), (False, True), "relu")]


def _x(shape=(6, 12), seed=0):
  return jax.random.normal(jax.random.key(seed), shape)


def _close(a, b, tol=1e-5):
  for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=tol, atol=tol)


def test_equal_widths_are_the_registered_mlps():
  shape = (12,)
  assert models.same_function(supernet.arch_mlp(4, widths=(8, 8, 8)), models.mlp(4, depth=3, width=8), shape)
  assert models.same_function(supernet.arch_mlp(4, widths=(8, 8, 8), residual=(False, True, True)),
                              models.residual_mlp(4, depth=3, width=8), shape)
  assert models.same_function(supernet.arch_net(4, Arch()), models.logistic(4), shape)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: a.label())
def test_a_member_is_its_standalone_network_outputs_and_gradients(arch):
  x_BxD, y_B = _x(), jnp.arange(6) % 4
  shapes = supernet.supernet_shapes((12,), 4, 5, 16)
  net, sup = supernet.arch_net(4, arch), supernet.supernet(4, depth=5, width=16)
  params = net.init(jax.random.key(3), x_BxD)
  member = supernet.embed(params, arch, shapes)
  _close(supernet.extract(member, arch), params, 0)  # the embedding loses nothing
  _close(sup.apply(member, x_BxD), net.apply(params, x_BxD))
  loss = lambda m, p: train.cross_entropy(m.apply(p, x_BxD), y_B).mean()
  g_net, g_sup = jax.grad(loss, 1)(net, params), jax.grad(loss, 1)(sup, member)
  _close(supernet.extract(g_sup, arch), g_net)
  # Everything outside the member's network gets exactly zero gradient: it never moves.
  inside = jax.tree.map(lambda a: a != 0, supernet.embed(jax.tree.map(jnp.ones_like, params), arch, shapes))
  for g, keep in zip(jax.tree.leaves(g_sup), jax.tree.leaves(inside)):
    assert not np.any(np.asarray(g)[~np.asarray(keep)])
  assert all(not np.any(np.asarray(g)) for g in jax.tree.leaves(g_sup["arch"]))


def test_the_member_init_is_the_engines_init_of_the_standalone_network():
  x_1xD = _x((1, 12))
  shapes = supernet.supernet_shapes((12,), 4, 5, 16)
  for arch in ARCHS:
    trainer = train.make_trainer(supernet.arch_net(4, arch), "adam", 8)
    engine = trainer.init(jax.random.PRNGKey(7), {"learning_rate": 1e-3}, {"x_train": x_1xD}).params
    _close(supernet.extract(supernet.member_init(4, arch, 7, x_1xD, shapes), arch), engine, 0)


def test_a_population_trains_in_one_program_as_each_network_alone(tiny):
  """Members of five architectures and two learning rates, one vmapped engine run of two epochs,
  against each standalone network trained by the engine alone: the same parameters to float tolerance."""
  seeds = [0, 1, 2, 3, 4]
  hps = [{"learning_rate": lr} for lr in (1e-2, 3e-3, 1e-2, 3e-3, 1e-2)]
  depth, width = supernet.bounds(ARCHS)
  init = supernet.population_init(4, ARCHS, seeds, tiny["x_train"][:1], depth, width)
  sup = train.make_trainer(supernet.supernet(4, depth=depth, width=width), "adam", 32)
  v = train.vmapped(sup)
  state, hist = jax.jit(v.train, static_argnums=2)(v.init(train.keys(seeds), train.stack(hps), tiny, None, init),
                                                    tiny, 2)
  for i, (arch, seed, hp) in enumerate(zip(ARCHS, seeds, hps)):
    alone = train.make_trainer(supernet.arch_net(4, arch), "adam", 32)
    s, h = jax.jit(alone.train, static_argnums=2)(alone.init(jax.random.PRNGKey(seed), hp, tiny), tiny, 2)
    member = jax.tree.map(lambda a: a[i], state.params)
    _close(supernet.extract(member, arch), s.params, 2e-4)
    _close(member["arch"], jax.tree.map(lambda a: a[i], init["arch"]), 0)  # the architecture never trains
    np.testing.assert_allclose(np.asarray(hist.val_acc[i]), np.asarray(h.val_acc), atol=1e-6)


def test_the_cut_keeps_the_better_fraction_of_the_members_still_training():
  best = np.array([0.5, 0.9, 0.7, 0.8, 0.6, 0.95, np.nan])
  done = np.array([False, False, False, False, False, True, True])  # 5 stopped by patience, 6 diverged
  cut = halving.cut(best, done, keep=0.5)
  assert set(np.flatnonzero(cut)) == {0, 4}  # ceil(5 x 0.5) = 3 of the five still training stay
  assert not halving.cut(best, done, keep=1.0).any()
  assert set(np.flatnonzero(halving.cut(np.array([0.7, 0.7, 0.7]), np.zeros(3, bool), 0.5))) == {2}  # ties: order


def test_run_cell_cuts_at_rungs_and_the_rungs_are_identity(tiny, tmp_path):
  trainer = train.make_trainer(models.mlp(4, depth=1, width=8), "adam", 32)
  kw = dict(name="sh", spec={}, seeds=[0, 1, 2, 3], hparams=[{"learning_rate": lr} for lr in (1e-1, 1e-2, 1e-3, 1e-4)],
            epochs=5, root=tmp_path, progress=False)
  out = cells.run_cell(trainer, tiny, rungs=halving.Rungs((1, 2), 0.5), **kw)
  ran = np.array([[v is not None for v in m.history["train_loss"]] for m in out.summary.members])
  assert ran[:, 0].all() and ran[:, 1].sum() == 2 and ran[:, 2:].sum(0).max() == 1
  # A member's epochs_run is what it trained: the rung's epoch for a member cut there.
  assert [m.final.epochs_run for m in out.summary.members] == ran.sum(1).tolist()
  plain = cells.run_cell(trainer, tiny, **kw)
  assert not plain.summary.reused and len(list(tmp_path.glob("sh-*"))) == 2
  ident = lambda **r: cells.identity(trainer, tiny, seeds=kw["seeds"], hparams=kw["hparams"], epochs=5, **r)[0]
  assert ident() == ident(rungs=None) != ident(rungs=halving.Rungs((1, 2), 0.5))
