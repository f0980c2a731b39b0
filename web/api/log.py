"""The transparency log (issue 20): GET /log/checkpoint[/SIZE], GET /log/proof/inclusion,
GET /log/proof/consistency, POST /log/checkpoint (admins: sign now), POST /log/witness (another
instance's log asks this one, as its witness, to co-sign a checkpoint).

Reading needs an auditor's or an admin's token: the proofs reveal no case data, but the log's
size and growth say how busy the centre is. The witness endpoint needs a token of any account
(the witnessed instance gets one on the witness); what it checks is the log's signature."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from engine.domain.users import Role
from engine.errors import Forbidden, Invalid, NotFound, Unavailable
from engine.services import tlog

from ..state import services
from . import api
from .common import current_user, json_body

NOTE_TYPE = "text/plain; charset=utf-8"


def _int_arg(name: str, required: bool = True) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise Invalid(
                "参数有误", [{"field": name, "message": f"缺少参数 {name}", "element": None}]
            )
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid(
            "参数有误", [{"field": name, "message": f"{name} 须为非负整数", "element": None}]
        )
    return int(raw)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/plain", "application/json"])
    return best == "application/json"


def _answer(found: dict[str, Any]) -> Any:
    if _wants_json():
        return found
    return Response(found["note"], mimetype="text/plain", content_type=NOTE_TYPE)


@api.get("/log/checkpoint")
def log_checkpoint() -> Any:
    found = tlog.latest(services(), current_user())
    if found is None:
        if tlog.log_signer() is None:
            raise Unavailable(tlog.NO_KEY)
        raise NotFound("日志还没有已签名的检查点")
    return _answer(found)


@api.get("/log/checkpoint/<int:size>")
def log_checkpoint_of_size(size: int) -> Any:
    return _answer(tlog.checkpoint(services(), size, current_user()))


@api.post("/log/checkpoint")
def sign_checkpoint() -> Any:
    user = current_user()
    if not user.has_role(Role.ADMIN):
        raise Forbidden("只有管理员可以立即签发检查点")
    svc = services()
    if tlog.log_signer() is None:
        raise Unavailable(tlog.NO_KEY)
    added = tlog.sequence(svc)
    made = tlog.sign(svc, force=True)
    latest = tlog.latest(svc)
    if latest is None:
        raise NotFound("日志还没有已签名的检查点")
    return {**latest, "added": added, "new": made is not None}, 201 if made else 200


@api.get("/log/proof/inclusion")
def inclusion_proof() -> Any:
    user = current_user()
    case_id, seq = _int_arg("case"), _int_arg("seq")
    size = _int_arg("size", required=False)
    assert case_id is not None and seq is not None
    return tlog.inclusion(services(), case_id, seq, size, user)


@api.get("/log/proof/consistency")
def consistency_proof() -> Any:
    user = current_user()
    old, new = _int_arg("from"), _int_arg("to")
    assert old is not None and new is not None
    return tlog.consistency(services(), old, new, user)


@api.post("/log/witness")
def witness() -> Any:
    current_user()  # any account: the witnessed log's instance signs in with its own
    body = json_body()
    note, proof = body.get("note"), body.get("proof", [])
    if not isinstance(note, str) or not isinstance(proof, list):
        raise Invalid(
            "请求体无效",
            [{"field": "note", "message": "须提供 note (文本) 和 proof (列表)", "element": None}],
        )
    if not all(isinstance(p, str) for p in proof):
        raise Invalid(
            "请求体无效",
            [{"field": "proof", "message": "proof 须为 base64 字符串列表", "element": None}],
        )
    return {"note": tlog.witness(note, proof)}
