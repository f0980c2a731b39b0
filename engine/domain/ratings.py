"""好差评: the national five-level rating of a service, and what a bad one sets off."""

from __future__ import annotations

from enum import IntEnum


class RatingLevel(IntEnum):
    VERY_SATISFIED = 5  # 非常满意
    SATISFIED = 4  # 满意
    BASICALLY_SATISFIED = 3  # 基本满意
    DISSATISFIED = 2  # 不满意
    VERY_DISSATISFIED = 1  # 非常不满意

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_bad(self) -> bool:
        """有差评必整改: these two levels open a rectification."""
        return self <= RatingLevel.DISSATISFIED

    @classmethod
    def parse(cls, value: object) -> RatingLevel | None:
        """From the level number (1–5) or its Chinese label."""
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
            return cls(value)
        for level, label in _LABELS.items():
            if value == label:
                return level
        return None


_LABELS = {
    RatingLevel.VERY_SATISFIED: "非常满意",
    RatingLevel.SATISFIED: "满意",
    RatingLevel.BASICALLY_SATISFIED: "基本满意",
    RatingLevel.DISSATISFIED: "不满意",
    RatingLevel.VERY_DISSATISFIED: "非常不满意",
}
