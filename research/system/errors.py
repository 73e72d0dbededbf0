"""User-facing errors: one readable line, no traceback unless --debug."""


class UserError(Exception):
  """Bad input from the user: names the problem and, where possible, the fix."""
