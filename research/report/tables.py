"""An experiment's tables as LaTeX (booktabs) and CSV, rendered from the table values of its table(doc).

  tables.formats(page) -> {"table.tex": ..., "table.csv": ...}   # page: a pages.Page (or Table)

table.md holds one or several tables, each with its caption (research/system/pages.py). table.tex
holds every table, in order; the CSVs hold one table each: table.csv when there is one, table-1.csv,
table-2.csv, ... when there are several (each with its own header row). LaTeX cells: "87.6 ± 0.2"
becomes $87.6 \\pm 0.2$, and in validation-accuracy columns (mean ± std cells under a "val" header)
the best mean is bold: the contest selection reads. Test columns are never bold, so no table points
at the best-on-test row.
"""
import csv
import io
import re

from research.system import pages

MEAN_STD = re.compile(r"^([+-]?[\d,]*\.?\d+) ± ([\d,]*\.?\d+)$")
# Columns of mean ± std that are not accuracies (lower is better, or not a contest): error rates too.
NOT_ACCURACY = ("loss", "step", "second", "s /", "time", "wer", "params", "error")
LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "±": r"$\pm$", "×": r"$\times$", "−": r"$-$", "—": "---", "–": "--",
                  "≤": r"$\leq$", "≥": r"$\geq$", "Δ": r"$\Delta$", "ρ": r"$\rho$"}


# ----------------------------------------------------------------------------
# CSV

def to_csv(table):
  out = io.StringIO()
  w = csv.writer(out, lineterminator="\n")
  w.writerow(table.header)
  w.writerows(table.rows)
  return out.getvalue()


def csv_names(count):
  return ["table.csv"] if count == 1 else [f"table-{i}.csv" for i in range(1, count + 1)]


# ----------------------------------------------------------------------------
# LaTeX

def escape(text):
  """Plain text to LaTeX, every special character and symbol the tables use."""
  return "".join(LATEX_SPECIALS.get(ch, ch) for ch in text)


def inline(markdown):
  """A caption or cell: **bold**, *italic*, `code` and plain text, escaped."""
  parts = re.split(r"(\*\*[^*]+\*\*|\*[^*\s][^*]*\*|`[^`]+`)", markdown)
  out = []
  for p in parts:
    if p.startswith("**") and p.endswith("**") and len(p) > 4:
      out.append(r"\textbf{" + escape(p[2:-2]) + "}")
    elif p.startswith("`") and p.endswith("`") and len(p) > 2:
      out.append(r"\texttt{" + escape(p[1:-1]) + "}")
    elif p.startswith("*") and p.endswith("*") and len(p) > 2:
      out.append(r"\emph{" + escape(p[1:-1]) + "}")
    else:
      out.append(escape(p))
  return "".join(out)


def _number(text):
  return float(text.replace(",", ""))


def best_rows(table, column):
  """Rows holding the column's best mean, if it is a validation-accuracy column; else none."""
  means = {r: _number(m.group(1)) for r, row in enumerate(table.rows) if (m := MEAN_STD.match(row[column]))}
  header = table.header[column].lower()
  validation = "val" in header and not any(w in header for w in NOT_ACCURACY)
  if len(means) < 2 or not validation:
    return set()
  top = max(means.values())
  return {r for r, v in means.items() if v == top}


def cell(text, bold=False):
  m = MEAN_STD.match(text)
  if m:
    num = lambda s: s.replace(",", "{,}")
    body = rf"{num(m.group(1))} \pm {num(m.group(2))}"
    return rf"$\mathbf{{{body}}}$" if bold else f"${body}$"
  return inline(text)


def to_latex(table):
  width = len(table.header)
  best = [best_rows(table, c) for c in range(width)]
  lines = [r"\begin{table}[ht]", r"\centering"]
  if table.caption:
    lines.append(r"\caption{" + inline(table.caption) + "}")
  lines += [r"\begin{tabular}{l" + "r" * (width - 1) + "}", r"\toprule",
            " & ".join(inline(h) for h in table.header) + r" \\", r"\midrule"]
  for r, row in enumerate(table.rows):
    lines.append(" & ".join(cell(t, r in best[c]) for c, t in enumerate(row)) + r" \\")
  lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
  return "\n".join(lines) + "\n"


def latex_document_part(tables):
  head = "% Generated from table.md by research/report/tables.py; needs \\usepackage{booktabs}.\n"
  return head + "\n".join(to_latex(t) for t in tables)


# ----------------------------------------------------------------------------

def formats(page) -> dict:
  """{file name: text}: table.tex with every table of the page, and one CSV per table."""
  found = pages.page(page).tables()
  if not found:
    return {}
  out = {"table.tex": latex_document_part(found)}
  out.update({name: to_csv(t) for name, t in zip(csv_names(len(found)), found)})
  return out


def with_links(folder, prefix=""):
  """folder's table.md with, under each table, links to its LaTeX and CSV (those on disk)."""
  lines = (folder / "table.md").read_text().splitlines(keepends=True)
  ends = [i for i, line in enumerate(lines)
          if line.startswith("|") and not (i + 1 < len(lines) and lines[i + 1].startswith("|"))]
  names = dict(zip(ends, csv_names(len(ends))))
  out = []
  for i, line in enumerate(lines):
    out.append(line)
    if i in names:
      found = [f"[{label}]({prefix}{f})" for label, f in (("LaTeX", "table.tex"), ("CSV", names[i]))
               if (folder / f).exists()]
      out += [f"\n{' · '.join(found)}\n"] if found else []
  return "".join(out)
