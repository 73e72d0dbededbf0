"""results/REPORT.md: every experiment's table, plots and reading, in one page."""
import json
import time

from research import paths, results, tables
from research.experiment import EXPERIMENTS, resolve


def write(paper_seconds=None):
  """Writes results/REPORT.md and results/summary.md; paper_seconds: `make paper`'s own clock."""
  root = paths.results_dir()
  parts = ["# How deep is deep learning? Measured.\n",
           f"Generated {time.strftime('%Y-%m-%d %H:%M %Z')} by `make paper` from the files under results/. "
           "Every number below comes from the results.json next to its table.\n"]
  total = 0.0
  missing = []
  summary = []
  for name in EXPERIMENTS:
    d = root / name
    if not (d / "results.json").exists():
      missing.append(name)
      continue
    doc = json.loads((d / "results.json").read_text())
    env = doc["environment"]
    total += doc["wall_s"]
    summary.append([f"`{name}`", doc["profile"], f"{doc['wall_s'] / 60:.1f}", env["devices"],
                    env["cpu_count"], env["jax"], doc["finished"]])
    parts.append(f"## {doc['title']}\n")
    parts.append(f"`make {name}` (profile {doc['profile']}), {doc['wall_s'] / 60:.1f} min on "
                 f"{env['devices']} ({env['cpu_count']} CPU cores), jax {env['jax']}, finished {doc['finished']}.\n")
    parts.append(tables.with_links(d, f"{name}/"))
    for png in sorted(d.glob("*.png")):
      parts.append(f"![{png.stem}]({name}/{png.name})\n")
    if (d / "reading.md").exists():
      parts.append("**Reading.**\n\n" + (d / "reading.md").read_text())
  if missing:
    parts.append(f"\nNot run yet: {', '.join(missing)}.\n")
  clock = (f" `make paper` took {paper_seconds / 60:.1f} min from start to report (set-up, data, "
           "compilation and training)." if paper_seconds else "")
  summary.append(["total", "", f"{total / 60:.1f}", "", "", "", ""])
  table = results.markdown_table(["experiment", "profile", "minutes", "devices", "CPU cores", "jax", "finished"],
                                 summary, f"Wall time of each experiment's last run, summed: {total / 60:.1f} min."
                                 + clock)
  parts.insert(2, table)
  results.write_atomic(root / "summary.md", table)
  path = root / "REPORT.md"
  results.write_atomic(path, "\n".join(parts))
  return path


__all__ = ["write", "resolve"]


def readme_blocks(text):
  """{name: (start, end)} of the `<!-- results:NAME -->` ... `<!-- /results -->` blocks of a README."""
  import re
  return {m.group(1): (m.start(2), m.end(2))
          for m in re.finditer(r"<!-- results:([\w/.]+) -->\n(.*?)(?=<!-- /results -->)", text, re.S)}


def sync_readme(readme=None):
  """Copies each results/NAME/table.md (or results/PATH) into the README's matching block."""
  readme = readme or paths.ROOT / "README.md"
  text = readme.read_text()
  out, last = [], 0
  for name, (start, end) in sorted(readme_blocks(text).items(), key=lambda kv: kv[1][0]):
    src = paths.results_dir() / (name if "." in name else f"{name}/table.md")
    if not src.exists():
      continue
    out += [text[last:start], src.read_text().rstrip("\n") + "\n"]
    last = end
  out.append(text[last:])
  results.write_atomic(readme, "".join(out))
  return readme
