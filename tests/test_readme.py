"""The README cannot drift from the commands and the results."""
import pathlib
import re

from research import paths, report
from research.experiment import EXPERIMENTS

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_begins_with_the_two_commands():
  first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
  assert [l.split("#")[0].strip() for l in first_block.strip().splitlines()] == ["make paper", "make test"]
  assert README.index("make paper") < 400


def test_every_make_target_in_the_readme_exists():
  makefile = (ROOT / "Makefile").read_text()
  targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
  for target in set(re.findall(r"`make (\w+)", README)) | set(re.findall(r"^make (\w+)", README, re.M)):
    assert target in targets, target


def test_results_tables_in_the_readme_are_the_committed_ones():
  blocks = report.readme_blocks(README)
  assert set(EXPERIMENTS) <= set(blocks)
  for name, (start, end) in blocks.items():
    src = ROOT / "results" / (name if "." in name else f"{name}/table.md")
    if src.exists():
      assert README[start:end] == src.read_text().rstrip("\n") + "\n", f"README block {name}: run `make readme`"


def test_ci_runs_make_test():
  assert "make test" in (ROOT / ".ci" / "run").read_text()
  assert paths.ROOT == ROOT
