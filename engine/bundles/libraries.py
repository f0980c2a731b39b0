"""Processes shared by bundles: a `callActivity` calling a process of a published library.

A bundle whose bundle.json says `"library": true` is a library (公用子流程库): its processes pass
every check of an upload, but no case starts on it. A `callActivity` of another upload whose
`calledElement` is not defined in that upload is resolved against the published (not retired)
libraries, each at its published version. The called process is then PINNED BY COPY: the
library's file defining it (and those defining what it calls in turn), its .dmn files and its
form files are added to the upload under `_library/<key>/<version>/`, and the upload is
compiled exactly as if it had been uploaded with them. The stored version thus carries the
copy, and the folder's name records which library version it took: a running case, an old
version and the audit's replay never see a library republished later.

An upload's own `_library/` folder is dropped before resolving (a saved or re-uploaded version
takes the libraries of today); a version checked again without a catalogue (the archive's
verifier) keeps its copy as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

from engine.bpmn.namespaces import BPMN, tag
from engine.bpmn.xml import XmlProblem, parse_xml

from .metadata import METADATA_FILE
from .problems import Problem
from .source import BundleSource

LIBRARY_DIR = "_library"
_COPIED = re.compile(rf"^{LIBRARY_DIR}/([^/]+)/([0-9]+)/(.+)$")
# at most this many processes are listed in a message
_LISTED = 20


@dataclass(frozen=True)
class PublishedLibrary:
    """A library at its published version, with its stored files (path -> content)."""

    key: str
    version: int
    files: Mapping[str, bytes]

    def processes(self) -> dict[str, str]:
        """The processes its own files define (not those it copied from other libraries)."""
        return {
            process: path
            for path, tree in _documents(self.files).items()
            if not is_copied(path)
            for process in _process_ids(tree)
        }


@dataclass(frozen=True)
class LibraryUse:
    """A process of a library a version took a copy of."""

    process: str
    key: str
    version: int


class LibraryCatalogue:
    """The published libraries an upload's call activities may call, loaded the first time an
    upload calls a process it does not define."""

    def __init__(self, load: Callable[[], Iterable[PublishedLibrary]]) -> None:
        self._load = load
        self._providers: dict[str, list[tuple[PublishedLibrary, str]]] | None = None

    @property
    def providers(self) -> dict[str, list[tuple[PublishedLibrary, str]]]:
        """Each process id with the libraries (and the file of each) defining it."""
        if self._providers is None:
            self._providers = {}
            for library in sorted(self._load(), key=lambda lib: lib.key):
                for process, path in library.processes().items():
                    self._providers.setdefault(process, []).append((library, path))
        return self._providers

    def listing(self) -> str:
        if not self.providers:
            return "目前没有已发布的公用子流程库"
        shown = [
            f"'{process}' (库 {lib.key} 第 {lib.version} 版)"
            for process, found in sorted(self.providers.items())
            for lib, _ in found
        ]
        more = f" 等 {len(shown)} 个" if len(shown) > _LISTED else ""
        return "已发布的公用子流程库中的流程: " + "、".join(shown[:_LISTED]) + more


def is_copied(path: str) -> bool:
    return path.startswith(LIBRARY_DIR + "/")


def copied_path(library: PublishedLibrary, path: str) -> str:
    return f"{LIBRARY_DIR}/{library.key}/{library.version}/{path}"


def _documents(files: Mapping[str, bytes | str]) -> dict[str, etree._ElementTree]:
    """The BPMN files that parse (the compiler says what is wrong with the others)."""
    found = {}
    for path in sorted(files):
        if not path.lower().endswith((".bpmn", ".bpmn20.xml")):
            continue
        data = files[path]
        try:
            found[path] = parse_xml(data.encode("utf-8") if isinstance(data, str) else data)
        except XmlProblem:
            continue
    return found


def _process_ids(tree: etree._ElementTree) -> list[str]:
    return [p.get("id", "") for p in tree.getroot().iter(tag(BPMN, "process")) if p.get("id")]


def _calls(documents: dict[str, etree._ElementTree]) -> list[tuple[str, str, int | None, str]]:
    """Each call activity: its id, calledElement, line and file."""
    return [
        (node.get("id", ""), node.get("calledElement", "").strip(), node.sourceline, path)
        for path, tree in documents.items()
        for node in tree.getroot().iter(tag(BPMN, "callActivity"))
        if node.get("calledElement", "").strip()
    ]


def attach(source: BundleSource, catalogue: LibraryCatalogue) -> tuple[BundleSource, list[Problem]]:
    """The upload with a copy of each library process its call activities call and it does not
    define itself (its own `_library/` folder dropped first), and the problems of those that no
    library, or more than one, provides."""
    files = {p: b for p, b in source.files.items() if not is_copied(p)}
    problems: list[Problem] = []
    taken: set[str] = set()  # the libraries whose .dmn and form files are copied
    refused: set[str] = set()
    while True:
        documents = _documents(files)
        defined = {process for tree in documents.values() for process in _process_ids(tree)}
        added = False
        for element, called, line, path in _calls(documents):
            if called in defined or called in refused:
                continue
            found = catalogue.providers.get(called, [])
            if len(found) != 1:
                refused.add(called)
                problems.append(_unresolved(element, called, line, path, found, catalogue))
                continue
            library, defining = found[0]
            files[copied_path(library, defining)] = bytes(library.files[defining])
            defined.update(_process_ids(_documents({defining: library.files[defining]})[defining]))
            added = True
            if library.key not in taken:
                taken.add(library.key)
                files.update(_companions(library))
        if not added:
            break
    return BundleSource(source.name, files), problems


def _companions(library: PublishedLibrary) -> dict[str, bytes]:
    """The library's decision tables and form files, which its processes may need."""
    return {
        copied_path(library, path): bytes(content)
        for path, content in library.files.items()
        if not is_copied(path)
        and path.lower().endswith((".dmn", ".json"))
        and path.rsplit("/", 1)[-1] != METADATA_FILE
    }


def _unresolved(
    element: str,
    called: str,
    line: int | None,
    path: str,
    found: list[tuple[PublishedLibrary, str]],
    catalogue: LibraryCatalogue,
) -> Problem:
    if found:
        both = " 和 ".join(f"库 '{lib.key}' (第 {lib.version} 版)" for lib, _ in found)
        message = (
            f"调用活动 '{element}' 调用的流程 '{called}' 同时由 {both} 提供, 无法确定调用哪一个: "
            "请停用其中一个库, 或在库中改用不同的流程 id"
        )
    else:
        message = (
            f"调用活动 '{element}' 调用的流程 '{called}' (calledElement) 不在上传内容中, "
            f"也不是已发布的公用子流程库中的流程. {catalogue.listing()}. "
            "请把定义它的 .bpmn 文件一起放进 zip 上传, 先发布提供它的库, 或改正 calledElement"
        )
    return Problem(message, element or None, line, path)


def uses(files: Mapping[str, bytes | str]) -> list[LibraryUse]:
    """The library processes a stored version calls, with the library version it copied."""
    documents = _documents(files)
    origin: dict[str, tuple[str, int]] = {}
    for path, tree in documents.items():
        copied = _COPIED.match(path)
        if copied:
            for process in _process_ids(tree):
                origin[process] = (copied[1], int(copied[2]))
    found: dict[str, LibraryUse] = {}
    for _, called, _, _ in _calls(documents):
        if called in origin and called not in found:
            found[called] = LibraryUse(called, *origin[called])
    return sorted(found.values(), key=lambda u: (u.key, u.process))


def is_library(metadata: Mapping[str, object]) -> bool:
    """Whether a version's bundle.json declares it a library."""
    return metadata.get("library") is True


LIBRARY_REFUSAL = "这是公用子流程库, 不能直接办件: 它的流程由其他事项包的调用活动调用"
