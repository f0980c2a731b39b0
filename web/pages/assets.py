"""Front-end libraries installed from the npm registry by the setup command (`make install` runs
`npm ci` in `web/`), served by the app itself: government intranets have no internet, and no page
loads anything from another host. Only the files pages use are reachable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("assets", __name__)

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"

# url name -> folder inside node_modules that may be served
VENDORED = {
    "bpmn-js": NODE_MODULES / "bpmn-js" / "dist",
}


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Any:
    folder = VENDORED.get(package)
    if folder is None:
        abort(404)
    if not folder.is_dir():
        # Not installed: say so plainly instead of a bare 404.
        abort(503, description=f"{package} 未安装: 请运行 make install (在 web/ 中执行 npm ci)")
    return send_from_directory(folder, filename, max_age=86400)
