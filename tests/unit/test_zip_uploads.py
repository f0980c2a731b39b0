"""engine.bundles.source: a damaged, encrypted or oddly compressed zip is a list of problems in
Chinese (BundleInvalid, a 422 upstream), never another exception (a 500)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.bundles.problems import BundleInvalid
from engine.bundles.source import from_directory, from_upload, from_zip
from tests.fixtures import bpmn
from tests.fixtures.hypothesis_settings import fixed


def _zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return bytearray(buffer.getvalue())


GOOD = {"p.bpmn": bpmn.linear(), "bundle.json": b'{"key": "p"}'}


def _problems(data: bytes) -> list[str]:
    with pytest.raises(BundleInvalid) as refused:
        from_zip("bundle.zip", data)
    return [p.message for p in refused.value.problems]


def _both(data: bytearray, local: int, central: int, value: int, mask: bool = False) -> bytes:
    """Set a field of the first member in its local header and the central directory."""
    at = data.find(b"PK\x01\x02")
    for offset in (local, at + central):
        data[offset] = data[offset] | value if mask else value
    return bytes(data)


@pytest.mark.parametrize(
    ("method", "name"),
    [
        (zipfile.ZIP_STORED, "stored"),
        (zipfile.ZIP_DEFLATED, "deflate"),
        (zipfile.ZIP_BZIP2, "bzip2"),
        (zipfile.ZIP_LZMA, "lzma"),
    ],
)
def test_the_standard_methods_are_read(method: int, name: str) -> None:
    source = from_zip("bundle.zip", bytes(_zip(GOOD, method)))
    assert source.files == GOOD, name


def test_a_bad_crc_is_a_problem() -> None:
    data = _zip({"p.bpmn": bpmn.linear()})
    data[14] ^= 0xFF
    data[data.find(b"PK\x01\x02") + 16] ^= 0xFF
    assert _problems(bytes(data)) == ["zip 内的文件已损坏 (CRC 校验失败): 请重新打包后上传"]


def test_encryption_is_a_problem() -> None:
    data = _both(_zip({"p.bpmn": bpmn.linear()}), 6, 8, 0x1, mask=True)
    assert _problems(data) == ["zip 内的文件已加密: 请上传未加密的压缩包"]


@pytest.mark.parametrize("method", [1, 6, 9, 97, 98, 99])  # shrink, implode, deflate64, ..., AES
def test_an_unknown_method_is_a_problem(method: int) -> None:
    data = _both(_zip({"p.bpmn": bpmn.linear()}), 8, 10, method)
    (problem,) = _problems(data)
    assert f"不支持的压缩方式 (编号 {method})" in problem


def test_only_the_members_kept_are_read() -> None:
    """A damaged member the bundle would skip anyway (not .bpmn/.dmn/.json) refuses nothing."""
    data = _zip({"README.txt": b"x" * 100, **GOOD})
    data[14] ^= 0xFF  # README.txt's CRC
    data[data.find(b"PK\x01\x02") + 16] ^= 0xFF
    assert from_zip("bundle.zip", bytes(data)).files == GOOD


def test_json_files_out_of_bounds_are_problems() -> None:
    deep = b'{"key": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for text, said in [
        (b'{"key": NaN}', "NaN"),
        (deep, "嵌套层数过多"),
        (b'{"k": "\\ud800"}', "代理项"),
    ]:
        problems = _problems(bytes(_zip({**GOOD, "bundle.json": text})))
        assert len(problems) == 1 and said in problems[0]
    # a syntax error is left to the checks that read the file (they say what they expected)
    assert (
        from_zip("b.zip", bytes(_zip({**GOOD, "bundle.json": b"{"}))).files["bundle.json"] == b"{"
    )


def test_a_directory_gets_the_same_json_check(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "p.bpmn").write_bytes(bpmn.linear())
    (folder / "bundle.json").write_text('{"key": Infinity}')
    with pytest.raises(BundleInvalid, match="Infinity"):
        from_directory(folder)


@fixed(400)
@given(st.data())
def test_any_damage_to_a_zip_is_a_problem_not_a_crash(data: st.DataObject) -> None:
    """Bytes of a good zip overwritten, cut off or repeated: the upload is read or refused with
    problems, and nothing else is ever raised."""
    methods = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
    mutated = _zip(GOOD, data.draw(st.sampled_from(methods)))
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        kind = data.draw(st.sampled_from(["byte", "cut", "repeat"]))
        if kind == "byte":
            mutated[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            mutated = mutated[:at] + mutated[at + data.draw(st.integers(1, 64)) :]
        else:
            mutated = mutated[:at] + mutated[at:] * 2
        if not mutated:
            break
    try:
        source = from_upload("bundle.zip", bytes(mutated))
    except BundleInvalid as refused:
        assert refused.problems and all(p.message for p in refused.problems)
    else:  # still a readable zip: what it holds is bytes, each within the file limit
        assert all(
            isinstance(v, bytes) and len(v) <= 5 * 1024 * 1024 for v in source.files.values()
        )
