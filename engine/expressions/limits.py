"""Resource limits: no expression may hang, recurse without bound or exhaust memory."""

from __future__ import annotations

MAX_SOURCE_CHARS = 4000
"""Longest accepted expression text, in characters (the ``${...}`` wrapper included)."""

MAX_NODES = 500
"""Most sub-expressions (operands, operations, calls, displays...) one expression may have."""

MAX_DEPTH = 100
"""Deepest nesting of sub-expressions; keeps compiling and evaluating far from the stack limit."""

MAX_EXPONENT = 64
"""Largest absolute exponent accepted by ``**``."""

MAX_INT = 10**100
"""Largest absolute integer an operation or function may produce."""

MAX_INT_BITS = MAX_INT.bit_length()
"""``MAX_INT`` in bits, for checking ``**`` before computing it."""

MAX_SIZE = 100_000
"""Largest result of repetition, concatenation, displays and functions: characters of text plus
elements of containers, counted through nesting."""

MAX_ROUND_DIGITS = 100
"""Largest absolute ``ndigits`` accepted by ``round``."""

MAX_SNIPPET_CHARS = 60
"""Longest excerpt of the user's text quoted in an error message."""
