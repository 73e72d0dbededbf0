"""REPORT.md and summary.md from every registered experiment's outputs, and README's results block.

A report covers one profile: results/REPORT.md the full profile (the committed paper),
results/<profile>/REPORT.md any other. Each section says which profile and run it shows; a
section whose results.json was written by another profile is flagged at the top.
"""
import importlib
import re
import sys
import time

from research import depth_verdicts, faults, paths, registry, results, tables
from research.experiment import UnsealedError, check_folder, read_doc, reading, recover


def protocol_of(doc):
  """How a run selected and stopped, from its config: the validation protocol, or the old one."""
  cfg = doc["config"]
  if cfg.get("val_size") and "patience" in cfg:
    stop = f"patience {cfg['patience']}" if cfg["patience"] else "no early stop"
    return f"validation {cfg['val_size']:,}, {stop}, ≤{cfg['epochs']} epochs"
  return "old: fixed epochs, no validation split"


OLD_PROTOCOL = ("**Old protocol.** This run predates the validation protocol: fixed epochs, no validation "
                "split, and its best rows were chosen on the test set. Rerun it (`make {target}`) for numbers "
                "selected on validation and trained to convergence.\n")


def _old_protocol_note(doc, target):
  return [OLD_PROTOCOL.format(target=target)] if protocol_of(doc).startswith("old") else []


def _section(entry, doc, folder):
  env = doc["environment"]
  title = doc.get("title", entry.title)
  target = entry.alias or entry.name
  parts = [f"## {title}\n",
           f"`make {target}` (profile {doc['profile']}), {doc['wall_s'] / 60:.1f} min on {env['devices']} "
           f"({env['cpu_count']} CPU cores), jax {env['jax']}, finished {doc['finished']}.\n",
           *_old_protocol_note(doc, target),
           tables.with_links(folder, f"{entry.name}/")]
  parts += [f"![{png.stem}]({entry.name}/{png.name})\n" for png in sorted(folder.glob("*.png"))]
  if (folder / "reading.md").exists():
    parts.append("**Reading.**\n\n" + (folder / "reading.md").read_text())
  return parts


SPENT = ("training s", "compile s", "eval s", "GFLOP", "GFLOP/s", "% of peak", "outside training s")


def _time_spent(doc):
  """The SPENT columns of one run; dashes for runs that did not record their cells."""
  cells = [c for c in doc.get("cells", []) if not c.get("reused")]
  if "cells" not in doc:
    return ["—"] * len(SPENT)
  train_s = sum(c["train_s"] for c in cells)
  compile_s = sum(c["compile_s"] for c in cells)
  # The one evaluation of the selected parameters per cell (train, validation and test splits).
  eval_s = sum(c.get("eval_s", 0.0) for c in cells)
  gflop = sum(c.get("flops", 0.0) for c in cells) / 1e9
  rate = gflop / train_s if train_s else float("nan")
  peak = doc["environment"].get("peak_gflops")
  share = f"{100 * rate / peak:.0f}%" if peak and train_s else "—"
  return [f"{train_s:.0f}", f"{compile_s:.0f}", f"{eval_s:.0f}", f"{gflop:,.0f}", f"{rate:.0f}" if train_s else "—",
          share, f"{doc['wall_s'] - train_s - compile_s - eval_s:.0f}"]


def write(profile=paths.FULL, paper_seconds=None):
  """Writes REPORT.md and summary.md of one profile; paper_seconds: `make paper`'s own clock."""
  root = paths.results_dir(profile)
  check_folder(root)
  sections, summary, missing, foreign, depth_pairs, unsealed = [], [], [], [], [], []
  total = 0.0
  for entry in registry.scan():
    folder = recover(root / entry.name)  # a publish killed between its renames is finished first
    check_folder(folder)
    if not (folder / "results.json").exists() and not (folder / "results.json").is_dir():
      missing.append(entry.name)
      continue
    with reading(folder):  # results.json, tables and plots of one run, not of two
      try:
        doc = read_doc(folder / "results.json")
      except UnsealedError as e:  # never reported; the other sections still are
        print(e, file=sys.stderr, flush=True)
        unsealed.append(entry.name)
        continue
      sections += _section(entry, doc, folder)
      hook = getattr(importlib.import_module(entry.module), "depth_pairs", None)
      if hook:
        depth_pairs += [(entry.name, protocol_of(doc), p) for p in hook(doc)]
    if doc["profile"] != profile:
      foreign.append(f"{entry.name} ({doc['profile']})")
    env = doc["environment"]
    total += doc["wall_s"]
    summary.append([f"`{entry.name}`", doc["profile"], protocol_of(doc), f"{doc['wall_s'] / 60:.1f}", *_time_spent(doc),
                    env["devices"], env["cpu_count"], env["jax"], doc["finished"]])
  clock = (f" `make paper` took {paper_seconds / 60:.1f} min from start to report (set-up, data, "
           "compilation and training)." if paper_seconds else "")
  summary.append(["total", "", "", f"{total / 60:.1f}"] + [""] * (len(SPENT) + 4))
  table = results.markdown_table(
      ["experiment", "profile", "protocol", "minutes", *SPENT, "devices", "CPU cores", "jax", "finished"], summary,
      f"Wall time of each experiment's last run, summed: {total / 60:.1f} min." + clock + " Where it went: "
      "seconds training the cells trained in that run (compiled programs, each epoch's validation pass "
      "included) and compiling them; seconds evaluating each cell's selected parameters once on its train, "
      "validation and test splits; training GFLOP as XLA counts them, for the member-epochs the programs "
      "executed (steps and validation passes; a loop inside a model, such as a GRU's scan over time, is "
      "counted once); achieved GFLOP/s against the fp32 matmul peak measured at the start of the run; the "
      "rest (data, set-up, identities, writing) outside training.")
  head = ["# How deep is deep learning? Measured.\n",
          f"Generated {time.strftime('%Y-%m-%d %H:%M %Z')} from the files under {root.name}/, profile "
          f"**{profile}**. Every number below comes from the results.json next to its table.\n"]
  if foreign:
    head.append(f"**Mixed profiles:** these sections were written by another profile: {', '.join(foreign)}.\n")
  if unsealed:
    head.append(f"**Not reported:** the results.json of {', '.join(unsealed)} does not match its digest (edited "
                "after it was written); rerun each to rebuild it (its finished cells are reused).\n")
  parts = head + [table] + depth_verdicts.section(depth_pairs) + sections
  if missing:
    parts.append(f"\nNot run yet ({profile} profile): {', '.join(missing)}.\n")
  path = root / "REPORT.md"
  with faults.reported("writing the report", root):
    results.write_atomic(root / "summary.md", table)
    results.write_atomic(path, "\n".join(parts))
  return path


BEGIN, END = "<!-- paper -->", "<!-- /paper -->"


def readme_blocks(text):
  """{name: (start, end)} of the `<!-- results:PATH -->` ... `<!-- /results -->` blocks of a README."""
  return {m.group(1): (m.start(2), m.end(2))
          for m in re.finditer(r"<!-- results:([\w/.]+) -->\n(.*?)(?=<!-- /results -->)", text, re.S)}


def paper_block():
  """README's generated results: one section per registered experiment with full results."""
  root = paths.results_dir(paths.FULL)
  parts = []
  for entry in registry.scan():
    table = recover(root / entry.name) / "table.md"
    if table.exists():
      with reading(table.parent):
        try:
          doc = read_doc(table.parent / "results.json")
        except UnsealedError:
          continue
        note = "".join(_old_protocol_note(doc, entry.alias or entry.name))
        parts.append(f"### {doc.get('title', entry.title)}\n\n{note + chr(10) if note else ''}"
                     f"{table.read_text().rstrip()}\n")
  return "\n".join(parts)


def synced(text):
  """README text with its blocks filled from the full profile's files."""
  root = paths.results_dir(paths.FULL)
  out, last = [], 0
  for name, (start, end) in sorted(readme_blocks(text).items(), key=lambda kv: kv[1][0]):
    src = root / name
    if not src.exists():
      continue
    out += [text[last:start], src.read_text().rstrip("\n") + "\n"]
    last = end
  out.append(text[last:])
  text = "".join(out)
  if BEGIN in text and END in text:
    head, rest = text.split(BEGIN, 1)
    text = head + BEGIN + "\n" + paper_block() + rest[rest.index(END):]
  return text


def sync_readme(readme=None):
  readme = readme or paths.ROOT / "README.md"
  results.write_atomic(readme, synced(readme.read_text()))
  return readme
