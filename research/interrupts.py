"""Ctrl-C at any moment ends the run with one line and exit status 130.

  from research import interrupts; interrupts.install()   # first, before importing jax

Two places print tracebacks otherwise: an interrupt during the imports (before
the driver's own `except KeyboardInterrupt`), and an interrupt that lands in a
callback Python cannot raise from (jax's gc callback), which Python prints as
"Exception ignored in: ..." and then carries on to exit 0. The second ends the
process with os._exit: every file is written atomically, checkpoints included,
so a hard exit loses nothing that a rerun needs.
"""
import os
import signal
import sys

LINE = "interrupted; run the same command again to resume where it stopped"
EXIT = 130


def stop():
  """Prints the line and leaves at once, whatever the interpreter was doing."""
  try:
    sys.stderr.write(LINE + "\n")
    sys.stderr.flush()
  finally:
    os._exit(EXIT)


def _unraisable(hook):
  def handle(unraisable):
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
      stop()
    hook(unraisable)
  return handle


def install():
  signal.signal(signal.SIGINT, signal.default_int_handler)  # a parent that ignored SIGINT does not silence Ctrl-C
  sys.unraisablehook = _unraisable(sys.unraisablehook)
