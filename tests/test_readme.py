"""The README cannot drift from the commands, the registry and the report it links."""
import pathlib
import re

import pytest

from research.system import paths, registry
from research.report import paper as report
from research.system.errors import UserError
from research.report.stats import BETTER, EQUIVALENT, UNRESOLVED, WORSE

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
REPORT = (ROOT / "results" / "REPORT.md").read_text()
PAGES = {p: p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_begins_with_the_two_commands():
  first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
  assert [l.split("#")[0].strip() for l in first_block.strip().splitlines()] == ["make paper", "make test"]
  assert README.index("make paper") < 400


def test_readme_is_short_and_carries_no_generated_table():
  """Generated tables live in results/REPORT.md only; the README links them."""
  assert len(README.splitlines()) <= 250
  assert not re.search(r"^\|.*\|$", README, re.M), "a table in README.md: link REPORT.md's instead"
  assert "<!-- results:" not in README


def test_every_make_target_in_the_readme_and_docs_exists():
  makefile = (ROOT / "Makefile").read_text()
  targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
  targets |= {n for e in registry.scan() for n in (e.name, e.alias) if n}  # the registry's targets
  for page, text in PAGES.items():
    if page.name == "reliability.md":
      continue  # it quotes error messages, whose `make x` stands for any experiment
    for target in set(re.findall(r"`make ([\w-]+)", text)) | set(re.findall(r"^make ([\w-]+)", text, re.M)):
      assert target in targets, target


def test_every_registered_experiment_has_its_line_with_a_verdict():
  """One line per experiment of the real registry, in paper order, each stating a verdict in words."""
  _, lines, _ = report._claim_lines(README)
  assert list(lines) == [e.alias or e.name for e in registry.scan()]
  words = (BETTER, WORSE, EQUIVALENT, UNRESOLVED)
  for target, line in lines.items():
    assert any(re.search(rf"\b{w}\b", line) for w in words), f"`make {target}`'s line states no verdict"


def test_the_claims_list_is_synced_with_the_registry_and_the_report():
  assert README == report.synced(README), "README's claims list is stale: run `make readme`"
  _, sections = report.report_anchors(REPORT)
  _, lines, _ = report._claim_lines(README)
  for e in registry.scan():
    assert (e.alias or e.name) in sections, f"results/REPORT.md has no section for {e.name}"
    assert f"({report.REPORT_LINK}#{sections[e.alias or e.name]})" in lines[e.alias or e.name]


def test_every_link_of_the_readme_and_docs_resolves():
  """Files exist, and every anchor into results/REPORT.md names one of its headings."""
  anchors, _ = report.report_anchors(REPORT)
  for page, text in PAGES.items():
    for link in LINK.findall(text):
      if re.match(r"[a-z]+:", link):
        continue  # a URL
      path, _, frag = link.partition("#")
      target = (page.parent / path).resolve() if path else page
      assert target.exists(), f"{page.name}: {link}"
      if frag and target == ROOT / "results" / "REPORT.md":
        assert frag in anchors, f"{page.name}: no heading of results/REPORT.md has the anchor #{frag}"


def test_github_anchors():
  seen = {}
  assert report.anchor("Where depth pays: Telgarsky's sawtooth (k = 2 to 10)", seen) == \
      "where-depth-pays-telgarskys-sawtooth-k--2-to-10"
  assert report.anchor("Reading", seen) == "reading"
  assert report.anchor("Reading", seen) == "reading-1"
  assert report.anchor("fashion_mnist@16, ≤40 epochs", seen) == "fashion_mnist16-40-epochs"


SMALL_REPORT = """# Title

## Depth vs accuracy: MLPs

`make depth` (profile full), 28.2 min on 1 x cpu.

## How deep is deep?

text
"""


def _readme(*lines):
  return "# R\n\n" + report.CLAIMS_BEGIN + "\n" + "\n".join(lines) + "\n" + report.CLAIMS_END + "\nend\n"


def test_readme_keeps_the_verdicts_and_refreshes_links_and_lines():
  stale = _readme("- **Depth?** Better by 4.7 points. [`make depth`](results/REPORT.md#an-old-title)")
  out = report.synced(stale, SMALL_REPORT)
  _, lines, tail = report._claim_lines(out)
  assert lines["depth"] == ("- **Depth?** Better by 4.7 points. "
                            "[`make depth`](results/REPORT.md#depth-vs-accuracy-mlps)")
  assert list(lines) == [e.alias or e.name for e in registry.scan()]  # a placeholder for every other
  assert "verdict is not written yet" in lines["wide"] and "(results/REPORT.md)" in lines["wide"]
  assert tail == "\nend\n" and report.synced(out, SMALL_REPORT) == out


def test_readme_refuses_a_line_it_cannot_place():
  with pytest.raises(UserError, match="no experiment"):
    report.synced(_readme("- **Gone.** Worse. [`make nothing`](results/REPORT.md)"), SMALL_REPORT)
  with pytest.raises(UserError, match="claims list"):
    report.synced(_readme("- a line without its link"), SMALL_REPORT)


def test_make_readme_rewrites_the_file(tmp_path):
  copy = tmp_path / "README.md"
  copy.write_text(README.replace("#depth-vs-accuracy", "#stale-depth-vs-accuracy", 1))
  assert report.sync_readme(copy) == copy and copy.read_text() == README


def test_ci_runs_make_test():
  assert "make test" in (ROOT / ".ci" / "run").read_text()
  assert paths.ROOT == ROOT
