"""Ctrl-C at any moment ends the run with one line and exit status 130.

  interrupts.install()   # first thing in __main__, before importing jax
  from research.cli.experiment import main
  interrupts.imported()  # from here on Ctrl-C raises KeyboardInterrupt

While the imports run, Ctrl-C exits at once: a KeyboardInterrupt raised
there surfaces as a traceback, as an ImportError ("Encountered an error while
initializing the extension"), through numpy's import_array() as PyErr_Print's
traceback, or inside nanobind as a C++ exception that aborts the process
(SIGABRT); no except clause sees all of these. After imported(), Ctrl-C
raises KeyboardInterrupt, so the driver's finally blocks run; one that lands
where Python cannot raise (jax's gc callback prints "Exception ignored in:
..." and the run carried on to exit 0) or that C code prints, ends the run
through the hooks below. stop() leaves with os._exit: every file is written
atomically, checkpoints included, so a hard exit loses nothing a rerun needs.
"""
import os
import signal
import sys

LINE = "interrupted; run the same command again to resume where it stopped"
EXIT = 130
_pressed = False


def pressed():
  """Whether Ctrl-C came since install(): an exception after it may be the interrupt in disguise."""
  return _pressed


def stop():
  """Prints the line and leaves at once, whatever the interpreter was doing."""
  try:
    sys.stdout.flush()
    sys.stderr.write(LINE + "\n")
    sys.stderr.flush()
  finally:
    os._exit(EXIT)


def _exit_now(signum, frame):
  stop()


def _raise(signum, frame):
  global _pressed
  _pressed = True
  raise KeyboardInterrupt


def _unraisable(hook):
  def handle(unraisable):
    if _pressed or isinstance(unraisable.exc_value, KeyboardInterrupt):
      stop()
    hook(unraisable)
  return handle


def _excepthook(hook):
  # PyErr_Print calls this: C code that prints an error before replacing it.
  def handle(kind, value, tb):
    if _pressed or issubclass(kind, KeyboardInterrupt):
      stop()
    hook(kind, value, tb)
  return handle


def install():
  signal.signal(signal.SIGINT, _exit_now)  # also un-ignores SIGINT that a parent shell ignored
  sys.unraisablehook = _unraisable(sys.unraisablehook)
  sys.excepthook = _excepthook(sys.excepthook)


def imported():
  signal.signal(signal.SIGINT, _raise)
