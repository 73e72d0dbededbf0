"""The words every table caption of the modular experiment shares: the rule, the setting, the members."""
from research.report import protocol, stats

from experiments.modular.points import main_point

# How the setting line names a pool's examples; an attribute set not here goes by its own name.
ITEMS = {"fashion_mnist": "Fashion-MNIST items", "fashion_mnist_frame": "Fashion-MNIST items",
         "digits": "scikit-learn digits", "digits_frame": "scikit-learn digits", "celeb_a": "CelebA faces"}


def rule_text(cfg, p):
  """The stopping rule at a point, with its maximum epochs."""
  return (f"{cfg['optimizer']} lr {cfg['learning_rate']:g} (combiner {cfg['combiner_lr']:g}), "
          f"batch {cfg['batch_size']}, {protocol.rule(cfg, p['epochs'])}")


def members_text(cfg):
  """Who the mean and std are over."""
  d, s = len(cfg["data_seeds"]), cfg["seeds"]
  return (f"mean ± std over {d * s} members: {d} data seeds (which examples of each group are drawn, the rare "
          f"ones included) x {s} initialization seeds, the std over both")


def dro_text(cfg):
  return (f"Group DRO: group-balanced batches, eta_q = {cfg['dro_step']:g}, group adjustment C = "
          f"{cfg['dro_adjustment']:g}, its epoch chosen on the worst-group validation accuracy (Sagawa's protocol; "
          "every other contender's on its average validation accuracy)")


def setting_text(doc):
  cfg, res = doc["config"], doc["results"]
  names, main = res["names"], main_point(res)
  items = ITEMS.get(cfg["attributes"], cfg["attributes"])
  return (f"{items}: {names['a_title']} ({' / '.join(names['a'])}) x {names['b_title']} "
          f"({' / '.join(names['b'])}); rare group: {res['rare_name']}. Validation: {main['n_val']:,} examples "
          f"held out of the training pool at the same rho ({main['counts']['val'][res['rare']]} rare). Test set "
          f"balanced ({main['counts']['test'][0]:,} per group), the same for every data seed. "
          f"{members_text(cfg)[0].upper()}{members_text(cfg)[1:]}. One-hidden-layer MLPs: monolithic and trunk "
          f"{cfg['width']} units, each attribute module {cfg['module_width']}, combiner {cfg['combiner_width']}; "
          f"{rule_text(cfg, main)}. {dro_text(cfg)}. epochs: to the best validation accuracy, median (range); + marks "
          "a member still improving at the maximum.")


def val_rare_text(p, c, rare):
  """The rare group's validation accuracy, or 'none' where validation has no rare example (rho = 0)."""
  return "none (rho = 0)" if p["counts"]["val"][rare] == 0 else stats.mean_sd_text(c["val_rare"])
