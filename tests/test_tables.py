"""Tables as values -> table.md, LaTeX (booktabs) and CSV, checked on every committed results table."""
import csv
import io
import json
import pathlib
import re

import pytest

from research.cli import experiment
from research.report import tables
from research.system import pages, registry, results

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMITTED = sorted((ROOT / "results").glob("*/table.md"))


def _braces_balance(tex):
  depth = 0
  for ch in re.sub(r"\\[{}]", "", tex):
    depth += {"{": 1, "}": -1}.get(ch, 0)
    if depth < 0:
      return False
  return depth == 0


def test_there_are_committed_tables():
  assert len(COMMITTED) >= 7


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.parent.name)
def test_every_committed_table_renders_from_its_results(path):
  """table.md, table.tex and the CSVs as committed are what the experiment's table values give from its
  results.json: none of them is parsed back out of markdown."""
  doc = json.loads((path.parent / "results.json").read_text())
  page = pages.page(registry.resolve(path.parent.name).table(doc))
  assert page.markdown() == path.read_text()
  rows = [len(t.rows) for t in page.tables()]
  assert rows and all(len(row) == len(t.header) for t in page.tables() for row in t.rows)
  files = tables.formats(page)
  csvs = tables.csv_names(len(rows))
  assert set(files) == {"table.tex", *csvs}
  for name, n in zip(csvs, rows):
    parsed = list(csv.reader(io.StringIO(files[name])))
    assert len(parsed) == n + 1 and len({len(r) for r in parsed}) == 1
  tex = files["table.tex"]
  assert _braces_balance(tex)
  assert tex.count(r"\begin{tabular}") == tex.count(r"\bottomrule") == len(rows)
  body_rows = [l for l in tex.splitlines() if l.endswith(r" \\")]
  assert len(body_rows) == sum(rows) + len(rows)  # a header row per table
  plain = re.sub(r"\\[%#_&${}]", "", tex.split("\n", 1)[1]).replace(" & ", " ")  # after the % comment line
  assert not re.search(r"[%#_&]", plain), "an unescaped special character"
  assert "±" not in tex and "×" not in tex and "−" not in tex
  for name, text in files.items():  # what `python -m research render` wrote is current
    assert (path.parent / name).read_text() == text


def test_a_page_joins_text_and_tables_as_strings_join():
  one, two = results.markdown_table(["a"], [[1]], "**One.**"), results.markdown_table(["b", "c"], [[2, 3]])
  page = "# Title\n\n" + one + "\n" + two
  assert page.markdown() == "# Title\n\n" + one.markdown() + "\n" + two.markdown()
  assert page.tables() == [one, two] and two.rows == (("2", "3"),)
  assert pages.join("\n", [one, "note\n", two]).markdown() == "\n".join([one.markdown(), "note\n", two.markdown()])
  assert tables.formats("| a |\n|---|\n| 1 |\n") == {}  # text is text: only table values become LaTeX and CSV


def test_latex_cells_escape_and_bold_the_best_validation_accuracy():
  md = results.markdown_table(
      ["model", "val acc", "test acc", "steps", "note"],
      [["a_1", "88.0 ± 0.1", "87.6 ± 0.2", "1,200 ± 30", "50% & #1 × 2 − 3"],
       ["b", "87.9 ± 0.3", "88.1 ± 0.4", "900 ± 10", "*published*"]],
      "**Caption.** Test accuracy (%), `x_y`.")
  tex = tables.formats(md)["table.tex"]
  assert r"\caption{\textbf{Caption.} Test accuracy (\%), \texttt{x\_y}.}" in tex
  # The selection column is bold; test and steps never are (no table points at the best-on-test row).
  assert (r"a\_1 & $\mathbf{88.0 \pm 0.1}$ & $87.6 \pm 0.2$ & $1{,}200 \pm 30$ & 50\% \& \#1 $\times$ 2 $-$ 3 \\"
          in tex)
  assert r"b & $87.9 \pm 0.3$ & $88.1 \pm 0.4$ & $900 \pm 10$ & \emph{published} \\" in tex
  assert tables.formats(md)["table.csv"].splitlines()[1] == "a_1,88.0 ± 0.1,87.6 ± 0.2,"'"1,200 ± 30"'",50% & #1 × 2 − 3"


def test_write_and_report_links(tmp_path):
  two = (results.markdown_table(["a", "b"], [[1, 2]], "**One.**") + "\n"
         + results.markdown_table(["c"], [[3], [4]], "**Two.**"))
  (tmp_path / "table.md").write_text(two.markdown())
  (tmp_path / "table.csv").write_text("stale")  # from a time with one table
  # The driver publishes a results folder whole: the CSV of a table now gone goes with the old folder.
  experiment.publish({"table.md": two.markdown().encode(), **{k: v.encode() for k, v in tables.formats(two).items()}},
                     tmp_path)
  assert sorted(p.name for p in tmp_path.glob("table*")) == ["table-1.csv", "table-2.csv", "table.md", "table.tex"]
  linked = tables.with_links(tmp_path, "exp/")
  assert linked.count("[LaTeX](exp/table.tex)") == 2
  assert linked.index("[CSV](exp/table-1.csv)") < linked.index("**Two.**") < linked.index("[CSV](exp/table-2.csv)")
