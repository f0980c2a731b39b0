"""挂起 (suspending a case, issue 18 · 8): the fixed list of reasons a case may be suspended for,
and which of them stop the statutory clock by default.

The Administrative Licensing Law, Art. 45: time taken by 听证, 招标, 拍卖, 检验, 检测, 检疫, 鉴定
and 专家评审 is not counted in the time limit. A bundle may say otherwise in bundle.json
`time_limits.suspension_stops_clock` (engine/domain/bundle_metadata.py `TimePolicy`).
"""

from __future__ import annotations

# kind -> what the clerk and the applicant read
SUSPENSION_KINDS: dict[str, str] = {
    "hearing": "听证",
    "tendering": "招标",
    "auction": "拍卖",
    "testing": "检验检测",
    "quarantine": "检疫",
    "appraisal": "鉴定",
    "expert_review": "专家评审",
    "court": "等待法院裁定",
    "other": "其他",
}
# the special procedures of Art. 45: their time is not counted
ART45_KINDS: tuple[str, ...] = (
    "hearing",
    "tendering",
    "auction",
    "testing",
    "quarantine",
    "appraisal",
    "expert_review",
)
MAX_REASON = 2000


def kind_label(kind: str) -> str:
    return SUSPENSION_KINDS.get(kind, kind)


def suspended_message(reason: str | None) -> str:
    """What every refused operation on a suspended case says."""
    why = f" (原因: {reason})" if reason else ""
    return f"办件已挂起{why}, 恢复后才能办理"
