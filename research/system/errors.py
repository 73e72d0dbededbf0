"""What the user reads: errors as one line (no traceback unless --debug), and one-line notices."""
import sys


class UserError(Exception):
  """Bad input from the user: names the problem and, where possible, the fix."""


def say(line: str) -> None:
  """A one-line notice on stderr (progress bars use stdout)."""
  print(line, file=sys.stderr, flush=True)
