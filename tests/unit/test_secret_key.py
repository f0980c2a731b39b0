"""The server secret: from LIANBAN_SECRET_KEY, else one random key kept in a file that every
process starting at once agrees on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine import config


def test_the_environment_gives_the_secret_and_a_short_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIANBAN_SECRET_KEY", "k" * 16)
    assert config.secret_key() == "k" * 16
    monkeypatch.setenv("LIANBAN_SECRET_KEY", "short")
    with pytest.raises(ValueError, match="too short"):
        config.secret_key()


def test_processes_starting_together_share_one_key_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret-key"
    keys: list[str] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        keys.append(config._read_or_create(path))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret-key"]  # nothing left aside
