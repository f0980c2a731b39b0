"""The database checked against the published transparency log (`lianban log verify`).

The publication directory (`LIANBAN_LOG_DIR`, engine/services/tlog.py `publish`) is written
where the database's administrator cannot reach: `checkpoints/<size>` (each signed note),
`leaves/<first>-<last>.txt` (one line per leaf: index, case id, seq, leaf hash). Whatever the
database now says, the published leaves are what was signed. So:

1. the latest published checkpoint is signed by the log's key;
2. the published leaves are complete up to its size, and their tree has its root (the
   publication itself is intact);
3. each published leaf is recomputed from `case_events` as they stand now (the same case, seq,
   event hash and state hash give the same leaf hash): an event rewritten (even with every
   hash after it recomputed), deleted, or moved to another case no longer gives its leaf;
4. the root of the signed size, computed from the database's events alone, equals the
   checkpoint's root;
5. the database's own log tables still hold the published leaves.

Each finding names the case and the step: "办件 N 第 M 步: ...".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.domain import merkle, signed_note
from engine.domain.model import CaseEvent

if TYPE_CHECKING:
    from .context import Services


class PublicationUnreadable(ValueError):
    """The publication directory holds no readable checkpoint or leaves (exit status 2)."""


@dataclass(frozen=True)
class PublishedLeaf:
    index: int
    case_id: int
    seq: int
    leaf_hash: bytes


@dataclass
class LogReport:
    size: int = 0
    origin: str = ""
    signers: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    cases: int = 0
    unsigned: int = 0  # leaves the database's log has beyond the signed size

    @property
    def ok(self) -> bool:
        return not self.findings

    def text(self) -> str:
        head = f"已公开的检查点: 日志 {self.origin}, 大小 {self.size}" + (
            f", 由 {'、'.join(self.signers)} 签名" if self.signers else ", 未核对签名 (未给公钥)"
        )
        lines = [head, *self.findings]
        if self.ok:
            lines.append(
                f"数据库与已公开的日志一致: {self.size} 个已签名的事件 ({self.cases} 件办件) "
                "都能从数据库中的事件重新算出, 根哈希与检查点相同"
                + (f"; 另有 {self.unsigned} 个事件已记入日志, 尚未签名" if self.unsigned else "")
            )
        else:
            lines.append(f"数据库与已公开的日志不一致: {len(self.findings)} 处")
        return "\n".join(lines)


def read_publication(directory: Path) -> tuple[str, list[PublishedLeaf]]:
    """The latest published checkpoint note and every published leaf, by index."""
    notes = directory / "checkpoints"
    sizes = sorted(
        (int(p.name) for p in notes.iterdir() if p.name.isdigit()) if notes.is_dir() else ()
    )
    if not sizes:
        raise PublicationUnreadable(f"{directory} 中没有已公开的检查点 (checkpoints/<大小>)")
    note = (notes / str(sizes[-1])).read_text(encoding="utf-8")
    leaves: dict[int, PublishedLeaf] = {}
    folder = directory / "leaves"
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                index, case_id, seq, leaf = line.split()
                leaves[int(index)] = PublishedLeaf(
                    int(index), int(case_id), int(seq), bytes.fromhex(leaf)
                )
            except ValueError:
                raise PublicationUnreadable(f"{path.name} 第 {number} 行无法读取") from None
    return note, [leaves[i] for i in sorted(leaves)]


def verify_published(
    svc: Services,
    directory: Path,
    keys: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> LogReport:
    """Check the database against the publication in `directory`, with the log's verifier
    keys `keys` (none: the note's signature is not checked, only its content used)."""
    note, published = read_publication(directory)
    report = LogReport()
    if keys:
        verifiers = [signed_note.Verifier.from_text(k.strip()) for k in keys]
        try:
            body, report.signers = signed_note.open_note(note, verifiers)
        except signed_note.NoteError as err:
            report.findings.append(f"已公开的检查点的签名无法用所给公钥验证: {err}")
            body = note.split("\n\n", 1)[0] + "\n"
    else:
        body = note.split("\n\n", 1)[0] + "\n"
    try:
        checkpoint = signed_note.parse_checkpoint(body)
    except ValueError as err:
        raise PublicationUnreadable(f"已公开的检查点无法读取: {err}") from None
    report.size, report.origin = checkpoint.size, checkpoint.origin
    size = checkpoint.size

    # 2. the publication itself: every leaf up to the signed size, and their root
    signed = [leaf for leaf in published if leaf.index < size]
    if [leaf.index for leaf in signed] != list(range(size)):
        have = {leaf.index for leaf in signed}
        gaps = [i for i in range(size) if i not in have]
        report.findings.append(
            f"已公开的叶不完整: 缺少 {len(gaps)} 个 (第一个是第 {gaps[0]} 片), 无法完整核对"
        )
    elif merkle.root(merkle.MemorySource([leaf.leaf_hash for leaf in signed]), size) != (
        checkpoint.root
    ):
        report.findings.append("已公开的叶算出的根哈希与签名的检查点不符: 公开目录本身被改动")

    # 3. each published leaf from the database's events as they are now
    by_case: dict[int, list[PublishedLeaf]] = {}
    for leaf in signed:
        by_case.setdefault(leaf.case_id, []).append(leaf)
    recomputed: dict[int, bytes] = {}
    with svc.uow() as uow:
        stored_leaves = uow.log.leaf_hashes(0, size)
        for done, case_id in enumerate(sorted(by_case), start=1):
            events: dict[int, CaseEvent] = {e.seq: e for e in uow.cases.events(case_id)}
            for leaf in by_case[case_id]:
                event = events.get(leaf.seq)
                if event is None:
                    report.findings.append(
                        f"办件 {case_id} 第 {leaf.seq} 步: 已公开的事件在数据库中不存在 (被删除)"
                    )
                    continue
                value = merkle.leaf_hash(
                    merkle.event_leaf(case_id, leaf.seq, event.hash, event.state_hash)
                )
                recomputed[leaf.index] = value
                if value != leaf.leaf_hash:
                    report.findings.append(
                        f"办件 {case_id} 第 {leaf.seq} 步: 数据库中的事件与已公开的日志不符 "
                        "(事件内容、哈希或状态哈希被改写)"
                    )
            if progress is not None:
                progress(done, len(by_case))
        sequenced = uow.log.size()
    report.cases = len(by_case)
    report.unsigned = max(0, sequenced - size)

    # 4. the signed root from the database's events alone
    if len(recomputed) == size and size > 0:
        ordered = [recomputed[i] for i in range(size)]
        if merkle.root(merkle.MemorySource(ordered), size) != checkpoint.root:
            report.findings.append(f"数据库中的事件算出的根哈希与大小 {size} 的签名检查点不符")
    elif size > 0 and not report.findings:
        report.findings.append(f"数据库中的事件不足以算出大小 {size} 的树")

    # 5. the database's own log tables
    if len(stored_leaves) < size:
        report.findings.append(
            f"数据库的日志表只有 {len(stored_leaves)} 片叶, 已公开的检查点有 {size} 片 (日志表被删改)"
        )
    else:
        for leaf, stored in zip(signed, stored_leaves, strict=False):
            if leaf.leaf_hash != stored:
                report.findings.append(
                    f"办件 {leaf.case_id} 第 {leaf.seq} 步: 数据库日志表的第 {leaf.index} 片叶与已公开的不符"
                )
    return report
