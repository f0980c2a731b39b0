"""Reading an upload into a set of named files: a directory, a .zip or a single .bpmn.

Uploads are untrusted: sizes and counts are bounded before anything is decompressed in full,
and zip member names may not leave the archive.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .problems import BundleInvalid, Problem

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_FILES = 200
ACCEPTED_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".json")


@dataclass
class BundleSource:
    """The files of one upload, by path inside the bundle."""

    name: str
    files: dict[str, bytes] = field(default_factory=dict)

    def by_suffix(self, *suffixes: str) -> dict[str, bytes]:
        return {p: b for p, b in sorted(self.files.items()) if p.lower().endswith(suffixes)}


def _accepted(path: str) -> bool:
    return path.lower().endswith(ACCEPTED_SUFFIXES)


def from_directory(path: Path) -> BundleSource:
    source = BundleSource(path.name)
    for file in sorted(path.rglob("*")):
        if file.is_file() and _accepted(file.name):
            rel = file.relative_to(path).as_posix()
            if file.stat().st_size > MAX_FILE_BYTES:
                raise BundleInvalid([Problem(f"文件过大 (上限 {MAX_FILE_BYTES} 字节)", file=rel)])
            source.files[rel] = file.read_bytes()
    return source


def from_zip(name: str, data: bytes) -> BundleSource:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleInvalid([Problem("不是有效的 zip 文件", file=name)]) from None
    problems: list[Problem] = []
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_FILES:
        raise BundleInvalid(
            [Problem(f"zip 内文件过多 ({len(members)} 个, 上限 {MAX_FILES})", file=name)]
        )
    total = sum(m.file_size for m in members)
    if total > MAX_TOTAL_BYTES:
        raise BundleInvalid(
            [Problem(f"zip 解压后过大 ({total} 字节, 上限 {MAX_TOTAL_BYTES})", file=name)]
        )
    source = BundleSource(PurePosixPath(name).stem)
    for member in members:
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts:
            problems.append(Problem("zip 内的路径不允许越出压缩包", file=member.filename))
            continue
        if path.name.startswith(".") or "__MACOSX" in path.parts or not _accepted(path.name):
            continue
        if member.file_size > MAX_FILE_BYTES:
            problems.append(Problem(f"文件过大 (上限 {MAX_FILE_BYTES} 字节)", file=member.filename))
            continue
        with archive.open(member) as handle:
            # Read one byte past the limit: the header's size may lie.
            content = handle.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            problems.append(Problem("文件解压后过大", file=member.filename))
            continue
        source.files[path.as_posix()] = content
    if problems:
        raise BundleInvalid(problems)
    return source


def from_upload(name: str, data: bytes) -> BundleSource:
    """A single uploaded file: a .zip bundle or one .bpmn file."""
    lower = name.lower()
    if lower.endswith(".zip") or data[:4] == b"PK\x03\x04":
        return from_zip(name, data)
    if lower.endswith((".bpmn", ".xml")):
        if len(data) > MAX_FILE_BYTES:
            raise BundleInvalid([Problem(f"文件过大 (上限 {MAX_FILE_BYTES} 字节)", file=name)])
        path = PurePosixPath(name)
        # Modelers also save BPMN as .xml; it is read as BPMN all the same.
        stored = path.name if lower.endswith(".bpmn") else f"{path.stem}.bpmn"
        return BundleSource(path.stem, {stored: data})
    raise BundleInvalid([Problem("只接受 .bpmn 文件或 .zip 压缩包", file=name)])


def from_path(path: Path) -> BundleSource:
    """What `lianban deploy` was given: a bundle directory, a .zip or a .bpmn file."""
    if path.is_dir():
        return from_directory(path)
    return from_upload(path.name, path.read_bytes())
