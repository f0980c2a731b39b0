"""A problem found in an upload, said in plain words and placed as precisely as we can."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """An error refuses the upload; a warning is stored with it and reported (the answer's
    `warnings`), so the designer can act before a case meets it."""

    message: str
    element: str | None = None
    line: int | None = None
    file: str | None = None
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        """The answer's shape (severity is said by the list it is in: errors or warnings)."""
        return {
            "message": self.message,
            "element": self.element,
            "line": self.line,
            "file": self.file,
        }

    @property
    def is_warning(self) -> bool:
        return self.severity == "warning"


class BundleInvalid(Exception):
    """The upload was refused; nothing was stored. Carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
