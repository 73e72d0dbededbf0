"""docs/reliability.md stays true: every test it names exists, every bad-input case of the suite's
list is in it with the line that test expects, and it lists at least 60 cases."""
import pathlib
import re

from test_reliability import BAD

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`")


def _rows():
  """(case, prints, [(file, test, id)]) of every table row."""
  out = []
  for line in DOC.read_text().splitlines():
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
    if len(cells) == 6 and cells[0].isdigit():
      out.append((cells[1], cells[4], REF.findall(cells[5])))
  return out


def test_every_test_the_doc_names_exists():
  rows = _rows()
  assert len(rows) >= 60, len(rows)
  for case, _, refs in rows:
    assert refs, f"row '{case}' names no test"
    for path, name, param in refs:
      source = (ROOT / path).read_text()
      assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} (row '{case}') does not exist"
      if param:
        assert param in BAD or param in source, f"{path}::{name}[{param}] (row '{case}') has no such case"


def test_every_bad_input_case_is_in_the_doc_with_the_line_its_test_expects():
  listed = {param: prints for _, prints, refs in _rows() for _, name, param in refs
            if name == "test_bad_input_gets_one_clear_line_and_changes_nothing"}
  for case, (_, expected) in BAD.items():
    assert case in listed, f"docs/reliability.md lacks the bad-input case '{case}'"
    assert expected.replace("|", "\\|") in listed[case], (case, expected)


def test_the_numbers_run_in_order():
  assert [int(l.split("|")[1]) for l in DOC.read_text().splitlines() if re.match(r"\| \d+ \|", l)] == \
      list(range(1, len(_rows()) + 1))
