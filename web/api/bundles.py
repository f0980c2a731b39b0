"""Bundles: upload (published at once, or a draft), validate, the lifecycle (publish, discard,
retire, restore), the catalogue, and a version's files as a zip."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from engine.bundles.problems import BundleInvalid
from engine.bundles.source import BundleSource, from_upload
from engine.errors import Invalid
from engine.services import catalogue, publishing

from ..inputs import VERSION
from ..responses import content_disposition
from ..state import services
from . import api
from .common import current_user


def _flag(name: str, default: bool, strict: bool = False) -> bool:
    """A true/false option given as a multipart form field or a query parameter (`strict`:
    a value that is neither is refused rather than read as the default)."""
    value = (request.form.get(name) or request.args.get(name) or "").strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    if strict and value:
        message = f"{name} 只能是 true 或 false"
        raise Invalid(message, [{"message": message, "field": name, "element": None}])
    return default


def _upload() -> BundleSource:
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
        return from_upload(upload.filename or "upload.bpmn", upload.read())
    except BundleInvalid as err:
        raise Invalid(
            "事项包未通过检查, 没有保存任何内容", [p.to_dict() for p in err.problems]
        ) from None


@api.post("/bundles")
def upload_bundle() -> Any:
    user = current_user()
    # before looking at the upload: a 403 says more than a 422 here
    publishing.require_designer(user)
    source = _upload()
    replace, publish = _flag("replace", False), _flag("publish", True, strict=True)
    return publishing.deploy(services(), source, user, replace=replace, publish=publish), 201


@api.post("/bundles/validate")
def validate_bundle() -> Any:
    user = current_user()
    publishing.require_designer(user)
    return publishing.validate(services(), _upload(), user)


@api.post(f"/bundles/<key>/versions/<{VERSION}:version>/publish")
def publish_version(key: str, version: int) -> Any:
    return publishing.publish(services(), current_user(), key, version)


@api.post(f"/bundles/<key>/versions/<{VERSION}:version>/discard")
def discard_version(key: str, version: int) -> Any:
    return publishing.discard(services(), current_user(), key, version)


@api.post("/bundles/<key>/retire")
def retire_bundle(key: str) -> Any:
    return publishing.retire(services(), current_user(), key)


@api.post("/bundles/<key>/restore")
def restore_bundle(key: str) -> Any:
    return publishing.restore(services(), current_user(), key)


@api.get(f"/bundles/<key>/versions/<{VERSION}:version>/bundle.zip")
def bundle_zip(key: str, version: int) -> Response:
    data = catalogue.bundle_zip(services(), current_user(), key, version)
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"{key}-v{version}.zip"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@api.get("/bundles")
def list_bundles() -> Any:
    return {"bundles": catalogue.list_bundles(services(), current_user())}


@api.get("/bundles/<key>")
def bundle_detail(key: str) -> Any:
    return catalogue.bundle_detail(services(), current_user(), key)


@api.get(f"/bundles/<key>/versions/<{VERSION}:version>")
def bundle_version(key: str, version: int) -> Any:
    return catalogue.bundle_detail(services(), current_user(), key, version)
