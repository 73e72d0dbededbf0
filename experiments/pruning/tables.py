"""table.md: one table per method (Han, lottery tickets, L1), each with its published rows."""
import math

from research.report import protocol, stats
from research.system import pages, results

from experiments.pruning import choices
from experiments.pruning.published import FASHION_REPO, FRANKLE_CARBIN, HAN

TICKET_LABELS = dict(init="ticket, rewound to θ0", early="ticket, rewound to θk",
                     reinit="control: same masks, fresh weights",
                     random="control: random masks, θ0")
HEADER = ["weights kept", "compression", "kept fc1 / fc2 / fc3", "train", "val", "test", "epochs"]


def layer_label(names, layer):
  """fc1, fc2, fc3: the layers as Han et al. name them, input to output."""
  return f"fc{names.index(layer) + 1}"


def per_layer(layer_kept, names):
  return " / ".join(f"{100 * layer_kept[n]:.0f}%" for n in names)


def accs(numbers):
  return [stats.mean_sd_text(numbers[k]) for k in ("train_acc", "val_acc", "test_acc")]


def kept_cells(row, names):
  return [f"{100 * row['kept']:.1f}%", f"{1 / row['kept']:.1f}x", per_layer(row["layer_kept"], names)]


def delta(tests, key, ref):
  """'+0.12 vs dense (-0.30 to +0.54)', with ', n.r.' when Holm leaves it unresolved."""
  if key not in tests:
    return "diverged"
  c = tests[key]
  if math.isnan(c.p):  # fewer than two seeds
    return f"{c.diff:+.2f} vs {ref} (no test at {c.seeds})"
  return f"{c.diff:+.2f} vs {ref} ({c.low:+.2f} to {c.high:+.2f})" + ("" if c.resolved else ", n.r.")


def _chosen(res, method, i):
  return " (chosen)" if res["selected"].get(method) == i else ""


def dense_row(res, names, label="dense"):
  d = res["dense"]
  return [label, "100.0%", "1.0x", per_layer({n: 1.0 for n in names}, names), *accs(d), protocol.epochs_cell(d), "—"]


def han_table(doc, tests):
  cfg, res = doc["config"], doc["results"]
  names, han = res["layers"], res["han"]
  d = dense_row(res, names)
  out = [["0", d[0], "—", "—", *d[1:-1], "—", "—"]]
  if res.get("control"):
    c = res["control"]
    out.append(["0", "control: dense, retrained alike", "—", "—", "100.0%", "1.0x",
                per_layer({n: 1.0 for n in names}, names),
                *accs(c), protocol.epochs_cell(c), "—", delta(tests, ("control",), "dense")])
  for i, r in enumerate(han["rows"]):
    q = " / ".join(f"{r['quality'][n]:g}" for n in names)
    out.append([r["round"], "pruned, retrained" + _chosen(res, "han", i), f"{r['tolerance']:g}", q,
                *kept_cells(r, names),
                *accs(r["numbers"]), protocol.epochs_cell(r["numbers"]), stats.mean_sd_text(r["before"]["test_acc"]),
                delta(tests, ("han", i), "dense")])
  out.append(["published", "Han et al. 2015, LeNet-300-100 on **MNIST**", "—", "—",
              f"{100 * HAN['weights_after'] / HAN['weights_before']:.1f}%", f"{HAN['compression']}x",
              " / ".join(f"{100 * v:.0f}%" for v in HAN["layer_kept"].values()), "—", "—",
              f"{100 - HAN['error_after']:.2f} (dense {100 - HAN['error_before']:.2f})", "—", "—",
              f"{HAN['error_before'] - HAN['error_after']:+.2f} vs their dense"])
  for x, acc in FASHION_REPO["points"]:
    out.append(["published", "unreviewed repository, MLP 784-512-512-512-10, **Fashion-MNIST**", "—", "—",
                f"{100 / x:.1f}%", f"{x:g}x", "—", "—", "—", f"{acc:.2f} (dense {FASHION_REPO['dense']:.2f})",
                "—", "—",
                f"{acc - FASHION_REPO['dense']:+.2f} vs their dense"])
  header = ["round", "network", "tolerance", "q fc1 / fc2 / fc3", *HEADER, "before retraining: test",
            "Δ test (95% CI)"]
  caption = (f"**Han et al.'s prune and retrain, LeNet-300-100** ({results.human(res['params'])} parameters) on "
             f"{res['dataset']['name']} ({res['dataset']['n_train']} train / {res['dataset']['n_val']} validation / "
             f"{res['dataset']['n_test']} test). Accuracy (%), mean ± std over {cfg['seeds']} seeds, of each "
             f"member's best-validation epoch. The dense net: {cfg['optimizer']} (momentum {cfg['momentum']:g}, L2 "
             f"weight decay {cfg['weight_decay']:g}), lr {cfg['learning_rate']:g}, batch {cfg['batch_size']}, "
             f"{protocol.rule(cfg)}. Each round, per layer and seed, removes the surviving weights below q × the "
             "std of the layer's surviving weights; q per layer (fc1 / fc2 / fc3) is the largest of "
             f"{', '.join(f'{q:g}' for q in res['han']['grid'])} whose one-shot pruning of that layer alone keeps "
             "the mean validation accuracy within `tolerance` points of the unpruned net's (the sensitivity scan, "
             "sensitivity.png). The survivors then retrain from their values at lr × "
             f"{cfg['retrain_lr_factor']:g}, constant, {protocol.rule(cfg, cfg['retrain_epochs']).split(';')[0]}; "
             "each tolerance is a chain of its own, all trained in one cell per round. Control: the dense net "
             "retrained the same way without pruning (does the lower rate alone still gain?). Weights kept: "
             "counted from the masks and checked against the parameters (kernel entries; biases are not pruned). "
             f"(chosen): the sparsest round whose mean validation accuracy is at most {cfg['max_drop']:g} points "
             "below the dense net's. " + _legend(tests) + " Published rows: other datasets and networks, with their "
             "own dense nets; compare the compression at which no accuracy is lost, not the accuracies.")
  return results.markdown_table(header, out, caption)


def ticket_table(doc, tests):
  cfg, res = doc["config"], doc["results"]
  names, tickets = res["layers"], res["tickets"]
  out = [["0", *dense_row(res, names)]]
  for i, r in enumerate(tickets["rows"]):
    method = {"init": "init", "early": "early"}.get(r["variant"])
    ref = "dense" if method else "ticket"
    out.append([r["round"], TICKET_LABELS[r["variant"]] + (_chosen(res, method, i) if method else ""),
                *kept_cells(r, names), *accs(r["numbers"]), protocol.epochs_cell(r["numbers"]),
                delta(tests, ("tickets", i), ref)])
  header = ["round", "network", *HEADER, "Δ test (95% CI)"]
  caption = (f"**Lottery tickets and their controls, LeNet-300-100** on {res['dataset']['name']}. Accuracy (%), mean "
             f"± std over {cfg['seeds']} seeds, best-validation epoch. Iterative magnitude pruning: each round "
             "removes "
             "the smallest surviving weights, per layer and seed, so that the hidden layers keep "
             f"{', '.join(f'{100 * k:g}%' for k in cfg['ticket_kept'])} of their weights after the successive rounds "
             f"(the output layer at {cfg['output_prune_factor']:g} × their rate), from the previous round's trained "
             "weights of the same chain. θ0: the survivors rewound to their initial values (Frankle and Carbin 2019); "
             f"θk: to the dense run's weights after {tickets['rewind_epoch']} epoch(s) (Frankle et al. 2020). Every "
             f"network trains like the dense net: lr {cfg['learning_rate']:g}, {protocol.rule(cfg)}. Controls, for "
             "the θ0 ticket of the same round: its masks with fresh random weights, and random masks with its kept "
             "count in every layer from θ0; their Δ is against that ticket, the tickets' against the dense net. "
             f"(chosen): the sparsest round within {cfg['max_drop']:g} points of the dense net on mean validation "
             "accuracy. " + _legend(tests) + " " + FRANKLE_CARBIN)
  return results.markdown_table(header, out, caption)


def l1_table(doc, tests):
  cfg, res = doc["config"], doc["results"]
  names, l1 = res["layers"], res["l1"]
  out = [[*dense_row(res, names, "— (dense net)"), "—", "—"]]
  for i, r in enumerate(l1["rows"]):
    magnitude = ["—", "—"] if r["l1"] == 0 else [stats.mean_sd_text(r["magnitude"]["test_acc"]),
                                                 delta(tests, ("magnitude", i), "L1")]
    out.append([f"{r['l1']:g}" + _chosen(res, "l1", i), *kept_cells(r, names), *accs(r["numbers"]),
                protocol.epochs_cell(r["numbers"]), delta(tests, ("l1", i), "dense"), *magnitude])
  header = ["L1 strength", *HEADER, "Δ test (95% CI)", "magnitude, same counts, no retraining: test",
            "Δ test (95% CI)"]
  caption = (f"**Weights that go to exactly zero: L1 as a proximal step, LeNet-300-100** on {res['dataset']['name']}. "
             f"Accuracy (%), mean ± std over {cfg['seeds']} seeds, best-validation epoch. Training as the dense net "
             f"({cfg['optimizer']}, lr {cfg['learning_rate']:g}) plus, after every step, soft thresholding of every "
             "weight matrix by lr × the L1 strength (the proximal step of strength × Σ|w|), so weights become "
             f"exactly 0.0; the rate decays as the dense net's, inside the optimizer (the engine's schedule would "
             f"scale the step after the threshold), {protocol.rule(cfg).split(';')[0]}. Strength 0, where listed, is "
             "the dense net's recipe again. Weights kept: not exactly 0.0 in the selected parameters (zeros per "
             "epoch: zeros.png). Δ test against the dense net; "
             "beside it, the dense net pruned by magnitude to the same count per layer and seed, without retraining, "
             "and its Δ against the L1 net. " + _legend(tests))
  return results.markdown_table(header, out, caption)


def _legend(tests):
  return (f"Δ test: points against the named reference, Welch's 95% CI; n.r.: not resolved (Holm-corrected p ≥ "
          f"{stats.ALPHA:g} over the {len(tests)} comparisons of these tables and the reading).")


def table(doc):
  res = doc["results"]
  tests = choices.comparisons(res)
  parts = [han_table(doc, tests)]
  if res.get("tickets"):
    parts.append(ticket_table(doc, tests))
  if res.get("l1"):
    parts.append(l1_table(doc, tests))
  return pages.join("\n", parts)
