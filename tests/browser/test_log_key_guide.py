"""The 办事指南 list shows the transparency log's public key when LIANBAN_LOG_KEY is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.domain import signed_note


def test_the_guide_list_shows_the_log_key(
    pages: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer, verifier = signed_note.generate_key("lianban/zwfw.example.cn")
    (tmp_path / "log.key").write_text(signer)
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(tmp_path / "log.key"))
    page = pages.new()
    pages.goto(page, "/guide")
    line = page.locator("[data-log-key]")
    assert "日志公钥" in line.inner_text() and verifier in line.inner_text()
    pages.shot(page, "guide-log-key")
