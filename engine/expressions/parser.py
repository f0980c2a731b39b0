"""From the user's text to a size-checked Python syntax tree; never compiles or runs it."""

from __future__ import annotations

import ast

from .errors import ExpressionError
from .juel import Translation, translate
from .limits import MAX_DEPTH, MAX_NODES, MAX_SOURCE_CHARS

_SYNTAX_HINTS = (
    ("unterminated triple-quoted string", "字符串缺少结束引号"),
    ("unterminated string", "字符串缺少结束引号"),
    ("was never closed", "括号没有闭合"),
    ("unmatched", "括号不匹配"),
    ("does not match", "括号不匹配"),
    ("too many nested parentheses", "括号嵌套过深"),
    ("invalid character", "含有不能识别的字符(可能是全角符号)"),
    ("invalid non-printable character", "含有不能识别的字符"),
    ("null bytes", "含有空字符"),
    ("leading zeros", "数字不能以 0 开头"),
    ("invalid decimal literal", "数字写法不正确"),
    ("exceeds the limit", "数字过长"),
)


def parse(source: str) -> tuple[ast.expr, Translation]:
    """The checked syntax tree of ``source`` and its translation; ExpressionError otherwise."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError.at(
            f"表达式过长({len(source)} 个字符，最多 {MAX_SOURCE_CHARS} 个)", source
        )
    translation = translate(source)
    if not translation.text.strip():
        raise ExpressionError.at("表达式为空", source)
    try:
        tree = ast.parse(translation.text, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(exc, source, translation) from None
    except (RecursionError, MemoryError):
        raise ExpressionError.at("表达式嵌套过深", source) from None
    except ValueError:  # null bytes, on some Python versions
        raise ExpressionError.at("表达式语法错误: 含有空字符", source) from None
    _check_size(tree.body, source, translation)
    return tree.body, translation


def _syntax_error(exc: SyntaxError, source: str, translation: Translation) -> ExpressionError:
    offset = None
    if exc.lineno is not None and exc.offset is not None:
        index = translation.index(exc.lineno, exc.offset - 1, utf8=False)
        offset = translation.origin[index]
    reason = (exc.msg or "").lower()
    hint = next((text for key, text in _SYNTAX_HINTS if key in reason), None)
    return ExpressionError.at("表达式语法错误", source, offset, hint)


def _check_size(root: ast.expr, source: str, translation: Translation) -> None:
    """Bound the number of sub-expressions and their nesting depth, without recursion."""
    count = 0
    pending: list[tuple[ast.AST, int]] = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, ast.expr):
            count += 1
            if count > MAX_NODES:
                raise ExpressionError.at(f"表达式过于复杂(超过 {MAX_NODES} 个语法节点)", source)
            if depth > MAX_DEPTH:
                offset = translation.span(node)[0]
                raise ExpressionError.at(f"表达式嵌套过深(超过 {MAX_DEPTH} 层)", source, offset)
            depth += 1
        pending.extend((child, depth) for child in ast.iter_child_nodes(node))
