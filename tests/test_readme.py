"""The README cannot drift from the commands and the results."""
import pathlib
import re

from research import paths, registry, report

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_begins_with_the_two_commands():
  first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
  assert [l.split("#")[0].strip() for l in first_block.strip().splitlines()] == ["make paper", "make test"]
  assert README.index("make paper") < 400


def test_every_make_target_in_the_readme_exists():
  makefile = (ROOT / "Makefile").read_text()
  targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
  targets |= {n for e in registry.scan() for n in (e.name, e.alias) if n}  # the registry's targets
  for target in set(re.findall(r"`make (\w+)", README)) | set(re.findall(r"^make (\w+)", README, re.M)):
    assert target in targets, target


def test_results_in_the_readme_are_the_committed_ones():
  """Every registered experiment with full results has its section, and every block matches its file."""
  assert README == report.synced(README), "README results are stale: run `make readme`"
  for name in registry.names():
    if (ROOT / "results" / name / "table.md").exists():
      assert (ROOT / "results" / name / "table.md").read_text().rstrip() in README, name


def test_ci_runs_make_test():
  assert "make test" in (ROOT / ".ci" / "run").read_text()
  assert paths.ROOT == ROOT
