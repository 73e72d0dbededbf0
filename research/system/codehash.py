"""A hash of Python code as Python parses it: formatting, comments and docstrings left out, so that
only an edit to what the code computes changes it (cell identities, data cache names)."""
import ast
import hashlib
import inspect
import textwrap


def _without_docstrings(tree):
  for node in ast.walk(tree):
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
        isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
      node.body = body[1:] or [ast.Pass()]
  return tree


def parsed(obj, *, unnamed=False):
  """The ast dump of a function, class or module; unnamed: a function's own name left out (how it is
  called, not what it computes)."""
  tree = _without_docstrings(ast.parse(textwrap.dedent(inspect.getsource(obj))))
  if unnamed and tree.body and hasattr(tree.body[0], "name"):
    tree.body[0].name = ""
  return ast.dump(tree)


def code_hash(*objs, unnamed=False, length=16):
  return hashlib.sha1("\n".join(parsed(o, unnamed=unnamed) for o in objs).encode()).hexdigest()[:length]
