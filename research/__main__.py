"""python -m research COMMAND ...

  run NAME [--profile P] [--config.KEY=VALUE ...] [--no-progress]
                 trains (or reuses) an experiment's cells and writes results/[P/]NAME/
  render NAME [--profile P]   rewrites NAME's tables, reading and plots from its results.json
  report [--profile P]        writes results/[P/]REPORT.md and summary.md from every experiment
  paper [--profile P]         runs every experiment in the registry's order, then the report
  readme                      README.md's claims list: a line for every experiment, each linking its
                              results/REPORT.md section (the verdicts in it are written by hand)
  list                        every experiment, its alias and title

--debug shows the traceback of an error instead of its one line. Profiles: full (the default,
the committed results), quick and tiny (each written apart, under results/<profile>/).
"""
import sys

from research.cli import interrupts

if __name__ == "__main__":
  interrupts.install()  # first: until the heavy imports are done, Ctrl-C exits at once with one line

import argparse  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

from research.system import faults, paths, registry  # noqa: E402
from research.system.errors import UserError  # noqa: E402

COMMANDS = ("run", "render", "report", "paper", "readme", "list")
EXIT_ERROR = 2  # bad input or a fault of the machine: one line on stderr (--debug: the traceback)


def quiet():
  """After the one line: no more logging. A library's background work that failed with the same fault
  (orbax's writer tasks on a full disk) logs it again when it is collected, often at exit."""
  import logging
  logging.disable(logging.CRITICAL)


class _Parser(argparse.ArgumentParser):
  """argparse whose errors are the project's one-line errors."""

  def error(self, message):
    raise UserError(message)


def parser():
  p = _Parser(prog="python -m research", description=__doc__.split("\n")[0], add_help=False)
  sub = p.add_subparsers(dest="command", parser_class=_Parser)
  for name in COMMANDS:
    c = sub.add_parser(name, add_help=False)
    if name in ("run", "render"):
      c.add_argument("name")
    if name in ("run", "render", "report", "paper"):
      c.add_argument("--profile", default=paths.FULL)
    if name == "run":
      c.add_argument("--no-progress", dest="progress", action="store_false")
    if name == "report":
      c.add_argument("--paper-seconds", type=float, default=None)
  return p


def parse(argv):
  """(arguments, config overrides) from the command line; one line on any mistake."""
  if not argv or argv[0] in ("-h", "--help", "help"):
    return None, []
  if argv[0] not in COMMANDS:
    raise UserError(f"unknown command '{argv[0]}'; valid: {', '.join(COMMANDS)}")
  if argv[0] in ("run", "render") and (len(argv) < 2 or argv[1].startswith("-")):
    raise UserError(f"`{argv[0]}` needs an experiment name; valid: {', '.join(registry.names())}")
  args, rest = parser().parse_known_args(argv)
  overrides = []
  for a in rest:
    if not a.startswith("--config.") or args.command != "run":
      raise UserError(f"unknown argument '{a}'" + ("; overrides look like --config.KEY=VALUE"
                                                    if args.command == "run" else ""))
    if "=" not in a:
      raise UserError(f"'{a}' has no value; write {a}=VALUE")
    overrides.append(a)
  return args, overrides


def _child(argv, grace_s=2.0):
  """Runs argv; Ctrl-C reaches the child (the terminal signals the whole process group), which says
  the one line and exits 130: this process waits and says nothing more. An interrupt sent to this
  process alone is passed on after grace_s."""
  pressed = []
  old = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(time.monotonic()))
  try:
    child = subprocess.Popen(argv)
    while True:
      try:
        code = child.wait(timeout=0.1)
        break
      except subprocess.TimeoutExpired:
        if len(pressed) == 1 and time.monotonic() - pressed[0] > grace_s:
          child.send_signal(signal.SIGINT)
          pressed.append(time.monotonic())
  finally:
    signal.signal(signal.SIGINT, old)
  if pressed and code == 0:  # the child finished before it saw the interrupt
    raise KeyboardInterrupt
  return code


def paper(profile):
  """Every experiment in the registry's order, each in its own process, then the report."""
  start = time.time()
  for name in registry.names():
    code = _child([sys.executable, "-m", "research", "run", name, "--profile", profile])
    if code:
      return code
  from research.report import paper as report
  seconds = time.time() - start
  print(report.write(profile, seconds))
  print(f"make paper (PROFILE={profile}): {seconds:.0f} s")
  return 0


def dispatch(args, overrides):
  if args is None:
    print(__doc__)
    return 0
  if args.command == "list":
    for e in registry.scan():
      print(f"{e.name:20s} {e.alias or '':8s} {e.title}")
    return 0
  from research.cli import config
  if args.command in ("run", "render", "report", "paper"):
    config.check_profile_name(args.profile)
  if args.command == "paper":
    interrupts.imported()
    return paper(args.profile)
  from research.cli import experiment
  from research.report import paper as report
  interrupts.imported()  # jax is loaded: from here Ctrl-C raises, so finally blocks run
  if args.command == "report":
    print(report.write(args.profile, args.paper_seconds))
  elif args.command == "readme":
    print(report.sync_readme())
  elif args.command == "render":
    print(experiment.render(args.name, args.profile))
  else:
    out_dir, wall = experiment.execute(args.name, args.profile, overrides, progress=args.progress)
    print(f"{out_dir}: done in {wall:.0f} s")
  return 0


def main(argv=None, exiting=False):
  """exiting: the process ends with this call (python -m research), so stderr a fault hushed stays so."""
  argv = list(sys.argv[1:] if argv is None else argv)
  debug = "--debug" in argv
  argv = [a for a in argv if a != "--debug"]
  try:
    return dispatch(*parse(argv))
  except UserError as e:
    stream = faults.unhush(restore=debug or not exiting)
    if debug:
      raise
    print(f"error: {e}", file=stream)
    stream.flush()
    return EXIT_ERROR
  except KeyboardInterrupt:
    print(interrupts.LINE, file=sys.stderr)
    return interrupts.EXIT


if __name__ == "__main__":
  try:
    status = main(exiting=True)
  except BaseException:
    if interrupts.pressed():  # an interrupt that surfaced as another exception
      interrupts.stop()
    raise
  if interrupts.pressed() and status != interrupts.EXIT:  # an interrupt some library swallowed
    interrupts.stop()
  if status == EXIT_ERROR:
    quiet()
  if status in (interrupts.EXIT, EXIT_ERROR):
    # The line is out; tearing the interpreter down while XLA's (or orbax's) threads still run can
    # crash it or print their errors again. Every file is written atomically: nothing is lost.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
  sys.exit(status)
