"""SpiffWorkflow's script engine, with Python `eval`/`exec` replaced by our expression language.

SpiffWorkflow evaluates gateway conditions, timers, loop and multi-instance expressions through
`script_engine.environment`, sometimes bypassing `PythonScriptEngine.evaluate`; so the
restriction lives in the environment itself. Nothing here ever hands text to `eval` or `exec`.

DMN decisions are evaluated through the same environment (`compile`, `functions`): lianban runs
them itself (engine/bpmn/dmn_model.py), every cell one expression of the language.
"""

from __future__ import annotations

import ast
from collections import ChainMap
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.expressions import DEFAULT_FUNCTIONS, Expression, ExpressionError, compile_expression
from engine.expressions.juel import translate
from engine.expressions.limits import MAX_SOURCE_CHARS


class ScriptsNotAllowed(RuntimeError):
    """A script reached the engine: uploads are checked so this never happens."""


@lru_cache(maxsize=4096)
def _compiled(source: str, functions_key: frozenset[str]) -> Expression:
    return compile_expression(source, _FUNCTION_SETS[functions_key])


_FUNCTION_SETS: dict[frozenset[str], Mapping[str, Callable[..., Any]]] = {}


class SafeEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Evaluates expressions with the whitelisted language; refuses scripts and services."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__({})
        self.functions = dict(functions if functions is not None else DEFAULT_FUNCTIONS)
        self._key = frozenset(self.functions)
        _FUNCTION_SETS.setdefault(self._key, self.functions)

    def compile(self, expression: str) -> Expression:
        return _compiled(expression, self._key)

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        variables: Mapping[str, Any] = (
            ChainMap(dict(context), dict(external_context)) if external_context else context
        )
        return self.compile(expression).evaluate(variables, self.functions)

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        raise ScriptsNotAllowed("脚本不会被执行: 流程中不允许脚本")

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ScriptsNotAllowed("服务任务不会被执行: 流程中不允许调用外部服务")


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """The only script engine a lianban workflow is ever given."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__(environment=SafeEnvironment(functions))

    def validate(self, expression: str) -> None:
        """Check `expression` without evaluating it, as `PythonScriptEngine.validate` does.

        Raises SyntaxError for text that does not parse (DMNEngine.needs_eq catches exactly
        that to tell `"accept"` from `> 5`), and ExpressionError for text that parses but is
        not in the language (`a.__class__`, `open(...)`)."""
        try:
            self.environment.compile(expression)
        except ExpressionError as err:
            if _is_syntax_error(expression):
                raise SyntaxError(err.message) from err
            raise


def _is_syntax_error(expression: str) -> bool:
    """Whether the text does not parse at all, as opposed to parsing into something the
    language refuses. Asked only after the language refused it; parses, never compiles."""
    if len(expression) > MAX_SOURCE_CHARS:
        return False  # refused for its length; never handed to Python's parser
    try:
        text = translate(expression).text  # JUEL spelling, as the language reads it
        ast.parse(text, mode="eval")
    except (SyntaxError, ExpressionError):
        return True
    except (ValueError, RecursionError, MemoryError):
        return False
    return False
