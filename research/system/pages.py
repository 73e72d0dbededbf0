"""An experiment's table.md as values: text blocks and Tables, in order.

  t = Table(("depth", "test acc (%)"), (("1", "88.1 ± 0.2"), ("3", "88.4 ± 0.3")), "**Depth.** 3 seeds.")
  page = "## Fashion-MNIST\n\n" + t + "\n" + other_table   # a Page: `+` joins blocks as strings join
  page.markdown()   # table.md;   page.tables()   # the Tables, for table.tex and the CSVs

An experiment's table(doc) builds its tables with results.markdown_table, which returns a Table, and
joins them with its headings and notes by `+`; research/report/tables.py renders LaTeX and CSV from
the values, so no table is parsed back out of markdown.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Table:
  """One table: column headers, rows of cell texts (as many as headers) and a markdown caption."""
  header: tuple
  rows: tuple
  caption: str = ""

  def markdown(self) -> str:
    lines = ["| " + " | ".join(self.header) + " |", "|" + "|".join("---" for _ in self.header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in self.rows]
    return (f"{self.caption}\n\n" if self.caption else "") + "\n".join(lines) + "\n"

  def tables(self) -> list:
    return [self]

  def __add__(self, other):
    return Page((self,)) + other

  def __radd__(self, other):
    return Page((other,)) + self


@dataclasses.dataclass(frozen=True)
class Page:
  """Blocks of markdown text and Tables."""
  blocks: tuple = ()

  def __add__(self, other):
    if isinstance(other, Page):
      return Page(self.blocks + other.blocks)
    if isinstance(other, (str, Table)):
      return Page(self.blocks + (other,))
    return NotImplemented

  def __radd__(self, other):
    if isinstance(other, (str, Table)):
      return Page((other,) + self.blocks)
    return NotImplemented

  def markdown(self) -> str:
    return "".join(b.markdown() if isinstance(b, Table) else b for b in self.blocks)

  def tables(self) -> list:
    return [b for b in self.blocks if isinstance(b, Table)]


def join(separator: str, parts) -> Page:
  """separator.join(parts) for parts that are text, Tables or Pages."""
  out = Page()
  for i, part in enumerate(parts):
    out = out + separator + part if i else out + part
  return out


def page(value) -> Page:
  """A Page from what an experiment's table(doc) returns: a Page, a Table, or markdown text (which
  then has no table values: table.md only, no LaTeX or CSV)."""
  if isinstance(value, Page):
    return value
  return Page((value,))
