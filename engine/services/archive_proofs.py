"""What the JSON 办件档案 carries so that it can be checked with nothing else (issue 20): the
pinned bundle version's files, the working-day calendar, and the case's place in the
transparency log (its events' inclusion proofs against the latest signed checkpoint, the note
itself, and on request a consistency proof to a checkpoint the auditor already holds).

The offline check of all this is engine/services/archive_verifier.py (`lianban verify-archive`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from engine.bundles.compiler import FormLibrary, _FormFiles
from engine.bundles.form_sources import is_generated
from engine.domain import merkle
from engine.domain.model import Case, CaseEvent, EventType
from engine.errors import Invalid
from engine.persistence.unit_of_work import UnitOfWork


def archive_files(files: Mapping[str, str], forms: Mapping[str, Any]) -> dict[str, str]:
    """The version's files as deployed, plus each form it took from the shared library (which
    the stored files do not hold) as `forms/<key>`, where the compiler looks first: the version
    compiles again from these alone. Form files do not enter the version's checksum; their
    parsed content does, and it is the same."""
    found = _FormFiles({p: t.encode() for p, t in files.items()}, FormLibrary(None))
    result = dict(sorted(files.items()))
    for key in sorted(forms):
        if found.get(key) is None and not is_generated(key):  # camunda:formData: in the XML
            result[f"forms/{key}"] = json.dumps(forms[key], ensure_ascii=False, indent=2)
    return result


def _version_files(uow: UnitOfWork, version_id: int) -> dict[str, str]:
    version = uow.bundles.get_version(version_id)
    if version is None:
        return {}
    files = uow.bundles.files(version.key, version.version) or {}
    return archive_files(files, version.forms)


def bundle_sections(uow: UnitOfWork, case: Case, events: Sequence[CaseEvent]) -> dict[str, Any]:
    """`bundle_files` (the pinned version's), and for a case moved between versions
    (`case_migrated`) the other versions' files by version id, with the pinned version's id."""
    sections: dict[str, Any] = {"bundle_files": _version_files(uow, case.bundle_version_id)}
    moves = [e.data for e in events if e.type == EventType.CASE_MIGRATED]
    if moves:
        ids = {int(m["from"]["version_id"]) for m in moves}
        ids |= {int(m["to"]["version_id"]) for m in moves}
        ids.discard(case.bundle_version_id)
        sections["bundle_version_id"] = case.bundle_version_id
        sections["migrated_bundle_files"] = {str(v): _version_files(uow, v) for v in sorted(ids)}
    return sections


def calendar_section(uow: UnitOfWork, tz: Any) -> dict[str, Any]:
    """The working-day calendar as the server builds it (engine/services/calendar_cache.py):
    `workdays()` timers re-execute on it."""
    years = uow.calendar.years()
    return {
        "time_zone": str(getattr(tz, "key", tz)),
        "years": [years[0], years[-1]] if years else None,
        "days": [
            {"day": r.day.isoformat(), "workday": r.workday, "name": r.name, "source": r.source}
            for r in uow.calendar.rules()
        ],
    }


def _against(message: str) -> Invalid:
    return Invalid(message, [{"field": "against", "message": message}])


def log_sections(
    uow: UnitOfWork, case_id: int, events: Sequence[CaseEvent], against: int | None = None
) -> dict[str, Any]:
    """`log`: the latest signed checkpoint (its note), its size, an inclusion proof for each of
    the case's events in the log at that size, and the events signed later (`pending`); null
    when nothing was signed yet. With `against` (a signed size the auditor holds),
    `consistency`: {"to_size", "proof"} between that size and the checkpoint's."""
    latest = uow.log.latest_checkpoint()
    if latest is None:
        if against is not None:
            raise _against("日志尚无签名的检查点, 无法给出一致性证明")
        return {"log": None}
    size = int(latest.size)
    source = uow.log.source()
    leaves = uow.log.case_leaves(case_id)
    proofs, pending = [], []
    for event in events:
        index = leaves.get(event.seq)
        if index is None or index >= size:
            pending.append(event.seq)
            continue
        proofs.append(
            {
                "seq": event.seq,
                "index": index,
                "leaf_hash": uow.log.leaf_hashes(index, index + 1)[0].hex(),
                "proof": [h.hex() for h in merkle.inclusion_proof(index, size, source)],
            }
        )
    sections: dict[str, Any] = {
        "log": {
            "checkpoint": latest.note,
            "size": size,
            "signed_at": latest.signed_at.isoformat(),
            "proofs": proofs,
            "pending": pending,
        }
    }
    if against is not None:
        if against < 1:
            raise _against("检查点的大小至少为 1")
        if against > size:  # signed meanwhile: then the archive's own is not the latest
            raise _against(f"检查点 {against} 比档案所用的检查点 ({size}) 更新")
        proof = merkle.consistency_proof(against, size, source) if against < size else []
        sections["consistency"] = {"to_size": against, "proof": [h.hex() for h in proof]}
    return sections
