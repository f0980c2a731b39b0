"""The safe expression language of uploaded BPMN files (conditions, timers, collections...).

A subset of Python expression syntax, plus JUEL's ``${...}``, ``&&``, ``||``, ``!``, ``true``,
``false`` and ``null``. Texts are parsed with ``ast`` and checked against a whitelist, then
evaluated by a tree of closures: nothing the user wrote is ever passed to ``eval``, ``exec`` or
``compile``. The limits are in ``limits.py``.
"""

from .errors import EvaluationError, ExpressionError
from .expression import Expression, check_expression, compile_expression
from .functions import DEFAULT_FUNCTIONS

__all__ = [
    "DEFAULT_FUNCTIONS",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "check_expression",
    "compile_expression",
]
