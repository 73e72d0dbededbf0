"""REPORT.md and summary.md from every registered experiment's outputs, and README's claims list.

A report covers one profile: results/REPORT.md the full profile (the committed paper),
results/<profile>/REPORT.md any other. Each section says which profile and run it shows; a
section whose results.json was written by another profile is flagged at the top.
"""
import importlib
import re
import sys
import time

from research.report import depth_verdicts, tables
from research.system import faults, paths, registry, results
from research.system.errors import UserError
from research.system.sealed import UnsealedError, check_folder, read_doc, reading, recover


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
  parts = head + [table.markdown()] + depth_verdicts.section(depth_pairs) + sections
  if missing:
    parts.append(f"\nNot run yet ({profile} profile): {', '.join(missing)}.\n")
  path = root / "REPORT.md"
  with faults.reported("writing the report", root):
    results.write_atomic(root / "summary.md", table.markdown())
    results.write_atomic(path, "\n".join(parts))
  return path


# README's claims list: one hand-written line per registered experiment, its verdict in words, ending
# in a link to the experiment's REPORT.md section. The verdicts are written, not generated (no
# experiment exposes a one-line headline); what `readme` keeps true is the list itself: a line for
# every experiment, in paper order, each linking the section REPORT.md has for it now.
CLAIMS_BEGIN, CLAIMS_END = "<!-- claims -->", "<!-- /claims -->"
REPORT_LINK = "results/REPORT.md"
CLAIM_LINK = re.compile(r"\[`make ([\w-]+)`\]\(" + re.escape(REPORT_LINK) + r"(#[\w-]*)?\)")


def anchor(heading, seen):
  """GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces to hyphens, and
  -1, -2, ... after a repeat; `seen` counts the anchors met so far in the file."""
  slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
  n = seen.get(slug, 0)
  seen[slug] = n + 1
  return f"{slug}-{n}" if n else slug


def report_anchors(text):
  """({anchor: heading} of every heading of a REPORT.md, {make target: anchor} of its experiment
  sections): an experiment's section is the heading whose first line is `make TARGET` (profile ...)."""
  anchors, sections, seen, last = {}, {}, {}, None
  for line in text.splitlines():
    heading = re.match(r"#+ (.*)", line)
    if heading:
      last = anchor(heading.group(1), seen)
      anchors[last] = heading.group(1)
    elif line.strip():
      target = re.match(r"`make ([\w-]+)` \(profile", line)
      if target and last:
        sections.setdefault(target.group(1), last)
      last = None  # only the heading's first line names its experiment
  return anchors, sections


def _claim_lines(text):
  """(head, {target: line}, tail) of README's claims block; one line per `- ` item."""
  if CLAIMS_BEGIN not in text or CLAIMS_END not in text:
    raise UserError(f"README.md has no claims list ({CLAIMS_BEGIN} ... {CLAIMS_END})")
  head, rest = text.split(CLAIMS_BEGIN, 1)
  block, tail = rest.split(CLAIMS_END, 1)
  lines = {}
  for line in block.strip("\n").splitlines():
    m = CLAIM_LINK.search(line)
    if not line.startswith("- ") or not m:
      raise UserError(f"README's claims list: '{line[:60]}' is not '- claim and verdict [`make NAME`]"
                      f"({REPORT_LINK}#section)'")
    lines[m.group(1)] = line
  return head, lines, tail


def synced(text, report_text=None):
  """README text with its claims list in paper order, a line for every registered experiment (a
  placeholder where none is written yet) and every line's link on its experiment's REPORT.md section."""
  if report_text is None:
    report = paths.results_dir(paths.FULL) / "REPORT.md"
    report_text = report.read_text() if report.exists() else ""
  _, sections = report_anchors(report_text)
  head, lines, tail = _claim_lines(text)
  entries = registry.scan()
  known = {n for e in entries for n in (e.name, e.alias) if n}
  stray = sorted(set(lines) - known)
  if stray:
    raise UserError(f"README's claims list names `make {stray[0]}`, which is no experiment; valid: "
                    f"{', '.join(sorted(known))}")
  out = []
  for e in entries:
    target = e.alias or e.name
    line = lines.get(target) or lines.get(e.name) or (
        f"- **{e.title or e.name}.** Its verdict is not written yet. [`make {target}`]({REPORT_LINK})")
    section = sections.get(target) or sections.get(e.name)
    link = f"[`make {target}`]({REPORT_LINK}{'#' + section if section else ''})"
    out.append(CLAIM_LINK.sub(lambda _: link, line, count=1))
  return head + CLAIMS_BEGIN + "\n" + "\n".join(out) + "\n" + CLAIMS_END + tail


def sync_readme(readme=None):
  """Rewrites README.md's claims list (see synced); the verdicts in it stay as written."""
  readme = readme or paths.ROOT / "README.md"
  results.write_atomic(readme, synced(readme.read_text()))
  return readme
