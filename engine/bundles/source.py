"""Reading an upload into a set of named files: a directory, a .zip or a single .bpmn.

Uploads are untrusted: sizes and counts are bounded before anything is decompressed in full,
and zip member names may not leave the archive.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from engine import untrusted_json

from .guide import is_attachment
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
    """A file the bundle reads, or one its 办事指南 offers (a material's sample or blank form)."""
    return path.lower().endswith(ACCEPTED_SUFFIXES) or is_attachment(path)


def from_directory(path: Path) -> BundleSource:
    source = BundleSource(path.name)
    for file in sorted(path.rglob("*")):
        if file.is_file() and _accepted(file.name):
            rel = file.relative_to(path).as_posix()
            if file.stat().st_size > MAX_FILE_BYTES:
                raise BundleInvalid([Problem(f"文件过大 (上限 {MAX_FILE_BYTES} 字节)", file=rel)])
            source.files[rel] = file.read_bytes()
    problems = _json_problems(source)
    if problems:
        raise BundleInvalid(problems)
    return source


# `zipfile` on a damaged archive raises BadZipFile (a bad CRC among others), but also zlib.error,
# lzma.LZMAError, OSError (bzip2), EOFError, NotImplementedError (a "version needed" it does not
# know), IndexError, UnicodeDecodeError (a name not in UTF-8 though marked so), ValueError,
# struct.error...: any exception while reading an upload's archive means it cannot be read.
_DAMAGED = Exception
_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}


def _member_problem(member: zipfile.ZipInfo) -> str | None:
    """Why a member cannot be read at all, before trying to."""
    if member.flag_bits & 0x1:
        return "zip 内的文件已加密: 请上传未加密的压缩包"
    if member.compress_type not in _METHODS:
        return (
            f"zip 内的文件使用了不支持的压缩方式 (编号 {member.compress_type}): "
            "请用标准的 deflate 压缩 (或不压缩) 重新打包"
        )
    return None


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes | str:
    """The member's content, at most one byte past the file limit (the header's size may lie),
    or the problem that stopped it."""
    try:
        with archive.open(member) as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except zipfile.BadZipFile as err:
        if "CRC" in str(err):
            return "zip 内的文件已损坏 (CRC 校验失败): 请重新打包后上传"
        return "zip 内的文件已损坏, 无法解压: 请重新打包后上传"
    except (NotImplementedError, RuntimeError):  # a method or an encryption zipfile cannot read
        return "zip 内的文件无法解压 (不支持的压缩方式或已加密): 请用标准的 deflate 压缩重新打包"
    except _DAMAGED:
        return "zip 内的文件已损坏, 无法解压: 请重新打包后上传"


def _json_problem(path: str, content: bytes) -> Problem | None:
    """A JSON file of the upload holding what no JSON input may (NaN, Infinity, a lone
    surrogate, nesting over 64 levels, an integer beyond 64 bits). Syntax errors are left to the
    checks that read the file, which say what they expected."""
    try:
        untrusted_json.loads(content)
    except untrusted_json.JsonRefused as err:
        where = f" ({err.where})" if err.where else ""
        return Problem(f"JSON 内容不可接受{where}: {err.message}", file=path)
    except ValueError:
        return None
    return None


def from_zip(name: str, data: bytes) -> BundleSource:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        # a member without a name is no file (and `is_dir` fails on it)
        members = [m for m in archive.infolist() if m.filename and not m.is_dir()]
    except _DAMAGED:
        raise BundleInvalid([Problem("不是有效的 zip 文件", file=name)]) from None
    problems: list[Problem] = []
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
        unreadable = _member_problem(member)
        content = _read_member(archive, member) if unreadable is None else unreadable
        if isinstance(content, str):
            problems.append(Problem(content, file=member.filename))
            continue
        if len(content) > MAX_FILE_BYTES:
            problems.append(Problem("文件解压后过大", file=member.filename))
            continue
        source.files[path.as_posix()] = content
    problems += _json_problems(source)
    if problems:
        raise BundleInvalid(problems)
    return source


def _json_problems(source: BundleSource) -> list[Problem]:
    found = (_json_problem(p, b) for p, b in source.by_suffix(".json").items())
    return [p for p in found if p is not None]


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
