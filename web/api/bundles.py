"""POST /bundles (upload), GET /bundles."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.bundles.problems import BundleInvalid
from engine.bundles.source import from_upload
from engine.errors import Invalid
from engine.services import catalogue, publishing

from ..inputs import VERSION
from ..state import services
from . import api
from .common import current_user


@api.post("/bundles")
def upload_bundle() -> Any:
    user = current_user()
    publishing.require_designer(
        user
    )  # before looking at the upload: a 403 says more than a 422 here
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(
            "缺少上传文件",
            [
                {
                    "message": "请用 multipart 字段 file 上传 .bpmn 或 .zip",
                    "element": None,
                    "line": None,
                }
            ],
        )
    try:
        source = from_upload(upload.filename or "upload.bpmn", upload.read())
    except BundleInvalid as err:
        raise Invalid(
            "事项包未通过检查, 没有保存任何内容", [p.to_dict() for p in err.problems]
        ) from None
    replace = (request.form.get("replace") or request.args.get("replace") or "").lower()
    return publishing.deploy(services(), source, user, replace=replace in ("true", "1", "yes")), 201


@api.get("/bundles")
def list_bundles() -> Any:
    return {"bundles": catalogue.list_bundles(services(), current_user())}


@api.get("/bundles/<key>")
def bundle_detail(key: str) -> Any:
    return catalogue.bundle_detail(services(), current_user(), key)


@api.get(f"/bundles/<key>/versions/<{VERSION}:version>")
def bundle_version(key: str, version: int) -> Any:
    return catalogue.bundle_detail(services(), current_user(), key, version)
