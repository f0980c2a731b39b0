"""The transparency log (issue 20): every case event becomes a leaf of an append-only RFC 9162
Merkle tree, and a key the database never holds signs checkpoints of it (C2SP tlog-checkpoint).
Published outside the database (`LIANBAN_LOG_DIR`) and co-signed by witnesses, a checkpoint
makes any later rewrite of the history visible: a rewritten event no longer has its inclusion
proof, a rewritten tree no longer extends the published one (docs/audit.md).

Leaf data: `engine.domain.merkle.event_leaf(case_id, seq, hash, state_hash)`."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import config
from engine.domain import merkle, signed_note
from engine.domain.signed_note import Checkpoint, NoteError, Signer, Verifier
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable

if TYPE_CHECKING:
    from .context import Services

log = logging.getLogger("lianban.tlog")

WITNESS_TIMEOUT = 10  # seconds a witness has to answer
BATCH = 5000  # events made leaves per statement round
NO_KEY = "未配置日志签名密钥 (LIANBAN_LOG_KEY)，暂不签发检查点"


# ---- sequencing ------------------------------------------------------------------------------


def sequence(svc: Services) -> int:
    """Make every event not yet in the log a leaf (in event id order) and store the complete
    subtrees they finish, in one transaction; returns how many leaves were added."""
    added = 0
    with svc.uow(write=True) as uow:
        repo = uow.log
        repo.lock_for_sequencing()
        size = repo.size()
        known: dict[tuple[int, int], bytes] = {}
        while True:
            events = repo.unsequenced(BATCH)
            if not events:
                break
            leaves: list[dict[str, Any]] = []
            nodes: list[dict[str, Any]] = []
            for e in events:
                h = merkle.leaf_hash(merkle.event_leaf(e.case_id, e.seq, e.hash, e.state_hash))
                idx = size
                leaves.append(
                    {
                        "idx": idx,
                        "event_id": e.id,
                        "case_id": e.case_id,
                        "seq": e.seq,
                        "leaf_hash": h.hex(),
                    }
                )
                known[(0, idx)] = h
                size += 1
                # the complete subtrees this leaf finishes: level l ends here when 2^l | size
                level, value, pos = 0, h, idx
                while pos % 2 == 1:
                    left = known.get((level, pos - 1)) or repo.node(level, pos - 1)
                    if left is None:
                        raise LookupError(f"the log lacks subtree ({level}, {pos - 1})")
                    value = merkle.node_hash(left, value)
                    level, pos = level + 1, pos // 2
                    known[(level, pos)] = value
                    nodes.append({"level": level, "idx": pos, "hash": value.hex()})
            repo.add_leaves(leaves)
            repo.add_nodes(nodes)
            added += len(leaves)
            if len(events) < BATCH:
                break
        uow.commit()
    return added


# ---- signing and publishing ------------------------------------------------------------------


def _read_signer(path: Path | None, variable: str) -> Signer | None:
    if path is None:
        return None
    try:
        return Signer.from_text(path.read_text().strip())
    except OSError as err:
        raise Unavailable(f"无法读取签名密钥文件 {variable}: {err.strerror}") from err
    except NoteError as err:
        raise Unavailable(f"签名密钥文件 {variable} 格式不正确") from err


def log_signer() -> Signer | None:
    """The log's signer from `LIANBAN_LOG_KEY`, None when it is not set."""
    return _read_signer(config.log_settings().key_path, "LIANBAN_LOG_KEY")


def public_key() -> str | None:
    """The verifier key of the log (for the 办事指南 page and `lianban log public-key`)."""
    signer = log_signer()
    return None if signer is None else signer.verifier_text


def public_key_or_none() -> str | None:
    """The verifier key for a public page: None when unset or unreadable (never an error)."""
    try:
        return public_key()
    except Unavailable:
        return None


def sign(svc: Services, force: bool = False) -> Checkpoint | None:
    """Sign a checkpoint of the tree as sequenced now, when it grew since the latest one (or,
    with `force`, also the first checkpoint of an empty log); None when nothing new or no key.
    The new note is published to `LIANBAN_LOG_DIR` when set."""
    settings = config.log_settings()
    signer = log_signer()
    if signer is None:
        return None
    with svc.uow(write=True) as uow:
        repo = uow.log
        repo.lock_for_sequencing()
        size = repo.size()
        latest = repo.latest_checkpoint()
        previous = 0 if latest is None else int(latest.size)
        if latest is not None and size <= previous:
            return None
        if latest is None and size == 0 and not force:
            return None
        root = merkle.root(repo.source(), size)
        body = signed_note.checkpoint_body(settings.origin, size, root)
        note = signed_note.sign(body, signer)
        now = svc.clock()
        repo.add_checkpoint(size, root.hex(), note, now)
        new_leaves = repo.leaves(previous, size)
        uow.commit()
    if settings.publish_dir is not None:
        publish(settings.publish_dir, size, note, previous, new_leaves)
        if settings.witnesses:
            push_to_witnesses(svc, settings.publish_dir, settings.witnesses, note, size)
    return Checkpoint(settings.origin, size, root)


def _witness_state(directory: Path, url: str) -> Path:
    return directory / "witnessed" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.note"


def push_to_witnesses(
    svc: Services, directory: Path, witnesses: tuple[str, ...], note: str, size: int
) -> dict[str, str]:
    """Ask each witness (`LIANBAN_LOG_WITNESSES`: "BASE_URL TOKEN" items, the token of an account
    on the witness) to co-sign `note`, with the consistency proof from the size it co-signed
    last (kept with its answer under `<LIANBAN_LOG_DIR>/witnessed/`). Never raises: a witness
    that is down or refuses is logged and asked again with the next checkpoint. Returns
    url -> "ok" or the reason."""
    results: dict[str, str] = {}
    for item in witnesses:
        url, _, token = item.partition(" ")
        state = _witness_state(directory, url)
        try:
            old = 0
            if state.exists():
                old_body = state.read_text(encoding="utf-8").split("\n\n", 1)[0] + "\n"
                old = signed_note.parse_checkpoint(old_body).size
            proof = consistency(svc, old, size)["proof"] if 0 < old < size else []
            body = json.dumps({"note": note, "proof": proof}).encode()
            request = urllib.request.Request(
                url.rstrip("/") + "/api/v1/log/witness", data=body, method="POST"
            )
            request.add_header("Content-Type", "application/json")
            if token.strip():
                request.add_header("Authorization", f"Bearer {token.strip()}")
            with urllib.request.urlopen(request, timeout=WITNESS_TIMEOUT) as response:
                cosigned = json.loads(response.read())["note"]
            _write_atomically(state, cosigned)
            results[url] = "ok"
        except urllib.error.HTTPError as err:
            reason = err.read().decode("utf-8", "replace")[:500]
            log.warning("witness %s refused checkpoint %s: %s %s", url, size, err.code, reason)
            results[url] = f"{err.code} {reason}"
        except Exception as err:  # a witness down or answering nonsense must not stop signing
            log.warning("witness %s unreachable for checkpoint %s: %s", url, size, err)
            results[url] = f"{type(err).__name__}: {err}"
    return results


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(aside, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(aside, path)


def publish(directory: Path, size: int, note: str, first: int, leaves: list[Any]) -> None:
    """Write `checkpoints/<size>`, `leaves/<first>-<last>.txt` (index, case id, seq, leaf hash
    per line) and then `checkpoint` (the latest note), each atomically (a temp file renamed)."""
    _write_atomically(directory / "checkpoints" / str(size), note)
    if leaves:
        lines = "".join(f"{r.idx} {r.case_id} {r.seq} {r.leaf_hash}\n" for r in leaves)
        _write_atomically(directory / "leaves" / f"{first}-{size - 1}.txt", lines)
    _write_atomically(directory / "checkpoint", note)


def run(svc: Services) -> Checkpoint | None:
    """What the worker does once a minute: sequence the new events, sign when the tree grew."""
    sequence(svc)
    return sign(svc)


# ---- reading ---------------------------------------------------------------------------------


def _row(found: Any) -> dict[str, Any]:
    return {
        "size": int(found.size),
        "root": found.root,
        "note": found.note,
        "signed_at": found.signed_at.isoformat(),
    }


def _may_read(user: User | None) -> None:
    if user is not None and not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以查看透明日志")


def latest(svc: Services, user: User | None = None) -> dict[str, Any] | None:
    """The latest signed checkpoint: {"size", "root" (hex), "note", "signed_at"}, or None."""
    _may_read(user)
    with svc.uow() as uow:
        found = uow.log.latest_checkpoint()
    return None if found is None else _row(found)


def checkpoint(svc: Services, size: int, user: User | None = None) -> dict[str, Any]:
    _may_read(user)
    with svc.uow() as uow:
        found = uow.log.checkpoint(size)
    if found is None:
        raise NotFound(f"没有大小为 {size} 的已签名检查点")
    return _row(found)


def leaf_of(svc: Services, case_id: int, seq: int) -> int | None:
    """The leaf index of event `seq` of case `case_id`, None while it is not sequenced."""
    with svc.uow() as uow:
        return uow.log.leaf_index(case_id, seq)


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in items]


def _size_problem(field: str, message: str) -> Invalid:
    return Invalid("参数有误", [{"field": field, "message": message, "element": None}])


def inclusion(
    svc: Services, case_id: int, seq: int, size: int | None = None, user: User | None = None
) -> dict[str, Any]:
    """The inclusion proof of event (case, seq) in the tree of `size` leaves (default: the
    latest checkpoint's size). Hashes are base64 (as in checkpoints); roots also in hex."""
    _may_read(user)
    with svc.uow() as uow:
        repo = uow.log
        if size is None:
            found = repo.latest_checkpoint()
            if found is None:
                raise NotFound("日志还没有已签名的检查点")
            size = int(found.size)
        tree = repo.size()
        if size < 1 or size > tree:
            raise _size_problem("size", f"树的大小须在 1 到 {tree} 之间")
        index = repo.leaf_index(case_id, seq)
        if index is None:
            raise NotFound(f"办件 {case_id} 的第 {seq} 条事件尚未记入日志")
        if index >= size:
            raise _size_problem("size", f"该事件是第 {index} 片叶子，不在大小为 {size} 的树中")
        source = repo.source()
        proof = merkle.inclusion_proof(index, size, source)
        leaf = source.subtree(index, index + 1)
        root = merkle.root(source, size)
    return {
        "case_id": case_id,
        "seq": seq,
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": base64.b64encode(leaf).decode(),
        "proof": _b64(proof),
        "root": base64.b64encode(root).decode(),
        "root_hex": root.hex(),
        "encoding": "base64",
    }


def consistency(svc: Services, old: int, new: int, user: User | None = None) -> dict[str, Any]:
    """The consistency proof that the tree of `new` leaves extends the tree of `old` leaves."""
    _may_read(user)
    with svc.uow() as uow:
        repo = uow.log
        tree = repo.size()
        if old < 1 or old > new:
            raise _size_problem("from", "from 须至少为 1 且不大于 to")
        if new > tree:
            raise _size_problem("to", f"to 不能超过日志当前大小 {tree}")
        source = repo.source()
        proof = merkle.consistency_proof(old, new, source)
        old_root, new_root = merkle.root(source, old), merkle.root(source, new)
    return {
        "from": old,
        "to": new,
        "proof": _b64(proof),
        "from_root": base64.b64encode(old_root).decode(),
        "to_root": base64.b64encode(new_root).decode(),
        "encoding": "base64",
    }


# ---- witnessing ------------------------------------------------------------------------------


def _witness_file(directory: Path, origin: str) -> Path:
    return directory / f"{hashlib.sha256(origin.encode()).hexdigest()[:32]}.checkpoint"


def witness(note: str, proof: list[str]) -> str:
    """Co-sign another log's checkpoint (this instance as its witness): the note must verify
    under one of `LIANBAN_WITNESS_LOGS`, and the tree must extend the last checkpoint of that
    origin this witness co-signed (`proof`: the consistency proof from that size, base64).
    Returns the note with this witness's signature added; an inconsistent one is a Conflict."""
    settings = config.log_settings()
    signer = _read_signer(settings.witness_key_path, "LIANBAN_WITNESS_KEY")
    if signer is None or settings.witness_dir is None:
        raise Unavailable("本实例未配置为见证方 (LIANBAN_WITNESS_KEY, LIANBAN_WITNESS_DIR)")
    try:
        verifiers = [Verifier.from_text(text) for text in settings.witness_logs]
    except NoteError as err:
        raise Unavailable("LIANBAN_WITNESS_LOGS 中的公钥格式不正确") from err
    try:
        body, _names = signed_note.open_note(note, verifiers)
        new = signed_note.parse_checkpoint(body)
    except NoteError as err:
        raise Forbidden("检查点的签名无法用见证方已知的日志公钥验证") from err
    try:
        hashes = [base64.b64decode(p, validate=True) for p in proof]
    except (ValueError, TypeError) as err:
        raise _size_problem("proof", "一致性证明须为 base64 编码的哈希列表") from err
    stored = _witness_file(settings.witness_dir, new.origin)
    if stored.exists():
        old_body, _ = signed_note.open_note(stored.read_text(encoding="utf-8"), verifiers)
        old = signed_note.parse_checkpoint(old_body)
        if new.size < old.size:
            raise Conflict(f"检查点大小 {new.size} 小于已见证的 {old.size}：日志被回退")
        if new.size == old.size:
            consistent = new.root == old.root
        else:
            consistent = old.size == 0 or merkle.verify_consistency(
                old.size, new.size, old.root, new.root, hashes
            )
        if not consistent:
            raise Conflict(f"检查点与已见证的大小 {old.size} 的检查点不一致：日志历史被改写")
    _write_atomically(stored, note)
    return signed_note.cosign(note, signer)
