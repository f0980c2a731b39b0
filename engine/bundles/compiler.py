"""Turning an upload into a deployable bundle version, or into the full list of its problems.

Order: each file must be safe, well-formed XML valid against the BPMN 2.0 schema (a `.dmn` file
against its DMN version's schema); then our own checks (no code, every expression in the safe
language, every deciding flow conditioned, every human task with a group and an existing, valid
form, every decision table runnable as written and every business rule task naming one of the
upload's decisions, and the work a case can ask bounded: engine/bundles/limits.py); then
SpiffWorkflow must parse the main process (not given a process larger than it can run). Nothing is
stored by this module.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from engine.bpmn import manifest
from engine.bpmn.namespaces import BPMN, tag
from engine.bpmn.parser import (
    DMN_SCHEMAS,
    LianbanParser,
    ValidationException,
    dmn_schema_errors,
    is_bpmn,
    is_dmn,
    schema_errors,
)
from engine.bpmn.serializer import specs_to_json
from engine.bpmn.xml import XmlProblem, parse_xml
from engine.config import engine_limits
from engine.domain.bundle_versions import HumanTaskInfo
from engine.forms import FormFileInvalid, load_form

from . import (
    assignment,
    checks,
    flow_ids,
    form_sources,
    guide,
    hints,
    libraries,
    limits,
    main_process,
    multi_sign,
    parse_errors,
    rules,
    unsupported,
)
from .metadata import KEY_PATTERN, METADATA_FILE, read_metadata
from .problems import BundleInvalid, Problem
from .source import BundleSource


@dataclass(frozen=True)
class CompiledBundle:
    """Everything a bundle version stores: checked, parsed, self-contained."""

    key: str
    name: str
    description: str
    process_id: str
    metadata: dict[str, Any]
    specs_json: str
    human_tasks: dict[str, HumanTaskInfo]
    start_form: str | None
    start_event: str | None
    forms: dict[str, dict[str, Any]]
    files: dict[str, bytes] = field(repr=False)
    checksum: str = ""
    warnings: tuple[Problem, ...] = ()
    """What the rules (engine/bundles/rules) found worth saying that does not refuse it."""


class FormLibrary:
    """Shared form files (the project's `forms/`), used when a bundle does not carry the form."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def get(self, key: str) -> bytes | None:
        path = PurePosixPath(key)
        if self.root is None or path.is_absolute() or ".." in path.parts:
            return None
        file = self.root.joinpath(*path.parts)
        return file.read_bytes() if file.is_file() else None

    def keys(self) -> list[str]:
        """Every form file of the library, as a key (at most a few hundred are listed)."""
        if self.root is None or not self.root.is_dir():
            return []
        found = sorted(self.root.rglob("*.json"))[:500]
        return [p.relative_to(self.root).as_posix() for p in found]


def _decision_outputs(decision_files: Documents) -> dict[str, tuple[str, ...]]:
    """The output column names of each decision, by decision id."""
    found = {}
    for tree in decision_files.values():
        root = tree.getroot()
        output = tag(etree.QName(root).namespace or "", "output")
        for decision in checks.decisions(root):
            names = (c.get("name") or c.get("label") or "" for c in decision.iter(output))
            found[decision.get("id") or ""] = tuple(n for n in names if n)
    return found


class _FormFiles:
    """Finds the file a form key names: the path itself, under `forms/`, or the first path (in
    sorted order) ending in `/<key>`; else the shared library. The paths are grouped by file
    name once per upload, so a lookup only compares the paths with the key's file name."""

    def __init__(self, files: dict[str, bytes], library: FormLibrary) -> None:
        self.files = files
        self.library = library
        self.by_name: dict[str, list[str]] = {}
        for path in sorted(files):
            self.by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)

    def get(self, key: str) -> bytes | None:
        for candidate in (key, f"forms/{key}"):
            if candidate in self.files:
                return self.files[candidate]
        suffix = "/" + key
        for path in self.by_name.get(key.rsplit("/", 1)[-1], ()):
            if path.endswith(suffix):
                return self.files[path]
        return self.library.get(key)

    def known(self) -> list[str]:
        """The form files a key could name: the upload's .json files and the library's."""
        found = [p for p in self.files if p.endswith(".json") and not p.endswith(METADATA_FILE)]
        return found + self.library.keys()


Documents = dict[str, etree._ElementTree]


def _parse_documents(source: BundleSource, problems: list[Problem]) -> tuple[Documents, Documents]:
    """The BPMN and the DMN documents of the upload, each checked against its schema."""
    documents = {}
    decision_files = {}
    for path, data in source.by_suffix(".bpmn", ".bpmn20.xml", ".dmn").items():
        try:
            tree = parse_xml(data)
        except XmlProblem as err:
            message = err.message + hints.xml_hint(data, err)
            problems.append(Problem(message, line=err.line, file=path))
            continue
        if path.lower().endswith(".dmn"):
            if _dmn_document(tree, path, problems):
                decision_files[path] = tree
            continue
        if not is_bpmn(tree):
            problems.append(
                Problem("不是 BPMN 2.0 文档 (根元素应为 bpmn:definitions)", line=1, file=path)
            )
            continue
        for message, line, element in schema_errors(tree):
            problems.append(Problem(f"不符合 BPMN 2.0 规范: {message}", element, line, path))
        documents[path] = tree
    if not documents and not problems:
        problems.append(Problem("上传内容中没有 .bpmn 文件", file=source.name))
    return documents, decision_files


def _dmn_document(tree: etree._ElementTree, path: str, problems: list[Problem]) -> bool:
    """Whether a .dmn file is a DMN document; its schema violations are added to `problems`."""
    if not is_dmn(tree):
        versions = "、".join(DMN_SCHEMAS)
        problems.append(
            Problem(
                f"不是 DMN 文档 (根元素应为 DMN 1.1/1.2/1.3 的 definitions: {versions})",
                line=1,
                file=path,
            )
        )
        return False
    for message, line, element in dmn_schema_errors(tree):
        problems.append(Problem(f"不符合 DMN 规范: {message}", element, line, path))
    return True


def _decision_problems(
    documents: Documents, decision_files: Documents, all_read: bool
) -> list[Problem]:
    """Every decision table runnable as written, decision ids unique, every business rule task
    naming one of them (a missing one is not reported while a .dmn file could not be read: the
    decision may be in it, and that file's own problem says why)."""
    found: list[Problem] = []
    known: dict[str, str] = {}
    for path, tree in decision_files.items():
        root = tree.getroot()
        found.extend(checks.decision_tables(root, path))
        for decision in checks.decisions(root):
            decision_id = decision.get("id")
            if decision_id and decision_id in known:
                found.append(
                    Problem(
                        f"决策 id '{decision_id}' 重复 (也在 {known[decision_id]} 中)",
                        decision_id,
                        decision.sourceline,
                        path,
                    )
                )
            elif decision_id:
                known[decision_id] = path
    for path, tree in documents.items():
        found.extend(checks.business_rule_tasks(tree.getroot(), path, known if all_read else None))
    return found


def _executable_processes(documents: dict[str, etree._ElementTree]) -> dict[str, str]:
    """Executable process ids mapped to the file holding them."""
    found = {}
    for path, tree in documents.items():
        for process in tree.getroot().iter(tag(BPMN, "process")):
            if process.get("isExecutable", "true") != "false" and process.get("id"):
                found[process.get("id", "")] = path
    return found


def _line_of(
    documents: dict[str, etree._ElementTree], element: str | None
) -> tuple[int | None, str | None]:
    if not element:
        return None, None
    for path, tree in documents.items():
        for node in tree.getroot().iter():
            if isinstance(node.tag, str) and node.get("id") == element:
                return node.sourceline, path
    return None, None


def _guide_checks(
    source: BundleSource, raw: dict[str, Any], refused: bool
) -> tuple[list[Problem], list[Problem]]:
    """The 办事指南 and its materials' files (engine/bundles/guide.py), once bundle.json passed
    its schema; an upload without bundle.json (a bare diagram) has no guide to check, nor a
    公用子流程库 (engine/bundles/libraries.py: it is never on the public guide)."""
    path = next(
        (p for p in sorted(source.files, key=len) if p.rsplit("/", 1)[-1] == METADATA_FILE), None
    )
    if path is None or refused or libraries.is_library(raw):
        return [], []
    return guide.check(raw, source.files, path)


def compile_bundle(
    source: BundleSource,
    library: FormLibrary,
    shared: libraries.LibraryCatalogue | None = None,
) -> CompiledBundle:
    """Check an upload completely; return it compiled or raise BundleInvalid with every problem.
    With `shared`, the processes its call activities call and it does not define are copied in
    from the published libraries first (engine/bundles/libraries.py); without, a `_library/`
    copy the files hold is compiled as it stands."""
    link_problems: list[Problem] = []
    if shared is not None:
        source, link_problems = libraries.attach(source, shared)
    source = flow_ids.with_flow_ids(source)  # id-less sequence flows named first (flow_ids.py)
    problems: list[Problem] = list(link_problems)
    meta, meta_problems = read_metadata(source.files)
    problems.extend(meta_problems)
    guide_problems, guide_warnings = _guide_checks(source, meta.raw, bool(meta_problems))
    problems.extend(guide_problems)
    before = len(problems)
    documents, decision_files = _parse_documents(source, problems)
    well_formed = len(problems) == before  # SpiffWorkflow only sees valid BPMN and DMN documents
    all_read = len(decision_files) == len(source.by_suffix(".dmn"))
    node_count = sum(limits.flow_nodes(t.getroot()) for t in documents.values())
    expression_count = sum(
        limits.expressions(t.getroot()) for t in (*documents.values(), *decision_files.values())
    )
    oversized = limits.upload_size_problems(node_count, expression_count)
    problems.extend(oversized)
    # too many expressions to check one by one: the upload is refused as it is, none compiled
    checked = expression_count <= limits.MAX_EXPRESSIONS
    decision_problems = (
        _decision_problems(documents, decision_files, all_read) if checked else oversized
    )
    if checked:
        problems.extend(decision_problems)

    human_tasks: dict[str, HumanTaskInfo] = {}
    task_files: dict[str, str] = {}  # the file each human task is drawn in
    start_forms: dict[str, tuple[str, str]] = {}
    too_large = bool(oversized)  # SpiffWorkflow is not given more than it can run
    # nor a diagram refused by policy (code, services, messages): its parse errors say nothing more
    refused_by_policy = False
    for path, tree in documents.items():
        root = tree.getroot()
        forbidden = [*checks.forbidden_constructs(root, path), *unsupported.constructs(root, path)]
        refused_by_policy = refused_by_policy or bool(forbidden)
        problems.extend(forbidden)
        if checked:
            problems.extend(checks.expressions(root, path))
            problems.extend(multi_sign.check(root, path))  # 会签/或签
            problems.extend(limits.instance_counts(root, path, engine_limits()))
            problems.extend(limits.timer_intervals(root, path, engine_limits()))
        problems.extend(checks.flow_ends(root, path))
        problems.extend(checks.gateway_flows(root, path))
        sizes = list(limits.process_sizes(root, path))
        too_large = too_large or bool(sizes)
        problems.extend(sizes)
        looped = assignment.multi_instance_tasks(root)
        for info in manifest.read_human_tasks(root):
            problems.extend(assignment.task_problems(info, path, looped))  # who may work it
            problems.extend(checks.human_task_rules(info, path))
            human_tasks[info.element] = info
            task_files[info.element] = path
        start_forms.update(manifest.start_forms(root))

    problems.extend(checks.send_back_rules(human_tasks, task_files))
    processes = _executable_processes(documents)
    main, main_problems = main_process.choose(documents, meta.process)
    problems.extend(main_problems)
    key_problem = main_process.key_problem(main, documents) if main and not meta.key else None
    problems.extend([key_problem] if key_problem else [])

    starts_at = meta.raw.get("time_limits", {}).get("starts_at")
    if starts_at and not _line_of(documents, starts_at)[1]:
        problems.append(
            Problem(f"time_limits.starts_at 指向的元素 '{starts_at}' 不存在", file=METADATA_FILE)
        )

    problems.extend(_intake_problems(meta.raw, human_tasks))
    problems.extend(_time_limit_problems(meta.raw, documents, human_tasks))

    forms: dict[str, dict[str, Any]] = {}
    problems.extend(form_sources.generated(documents, forms))  # camunda:formData, formProperty
    form_files = _FormFiles(source.files, library)
    wanted = [(i.form, i.element, i.line, i.name) for i in human_tasks.values() if i.form]
    wanted += [(key, event, None, "开始事件") for event, key in start_forms.values()]
    for key, element, line, label in wanted:
        assert key is not None
        if key in forms or form_sources.is_generated(key):
            continue
        content = form_files.get(key)
        if content is None:
            message = form_sources.missing_message(label, key)
            guess = hints.nearest_path(key, form_files.known())
            if guess:
                message += f"; 您是否想写 '{guess}'?"
            problems.append(Problem(message, element, line))
            continue
        try:
            forms[key] = load_form(content)
        except FormFileInvalid as err:
            problems.append(Problem(f"表单 '{key}' 无效: {err}", element, line))
    problems.extend(form_sources.after_forms(human_tasks, task_files, forms, form_files))

    warnings: list[Problem] = list(guide_warnings)
    if well_formed and checked and not too_large:
        upload = rules.Upload(documents, forms, _decision_outputs(decision_files), meta)
        for found in rules.run(upload):
            (warnings if found.is_warning else problems).append(found)

    specs_json = ""
    parseable = well_formed and not decision_problems and not too_large and not refused_by_policy
    parseable = parseable and not link_problems  # SpiffWorkflow would only repeat them
    if main in processes and parseable:
        specs_json = _parse_specs(documents, decision_files, main, problems)
    if problems:
        raise BundleInvalid(problems)
    assert main is not None

    process_node = next(
        p
        for t in documents.values()
        for p in t.getroot().iter(tag(BPMN, "process"))
        if p.get("id") == main
    )
    key = meta.key or main
    name = meta.name or process_node.get("name") or key
    if not re.match(KEY_PATTERN, key):  # bundle.json's key is checked by its schema
        raise BundleInvalid([main_process.key_problem(main, documents) or Problem(key, main)])
    if len(name) > 200 or len(main) > 200:
        raise BundleInvalid([Problem("事项包名称或主流程标识过长 (上限 200 个字符)", main[:200])])
    return CompiledBundle(
        key=key,
        name=name,
        description=meta.description,
        process_id=main,
        metadata=meta.raw,
        specs_json=specs_json,
        human_tasks=human_tasks,
        start_form=start_forms[main][1] if main in start_forms else None,
        start_event=start_forms[main][0] if main in start_forms else None,
        forms=forms,
        files=dict(source.files),
        checksum=_checksum(source.files, forms),
        warnings=tuple(warnings),
    )


def read_upload(source: BundleSource, library: FormLibrary) -> rules.Upload | None:
    """What the rules see of an upload, read as far as it can be while it is still being drawn
    (the designer's editor asks what a condition may read): the documents that parse, the forms
    that exist and load, the metadata if valid. None when it is larger than the rules are run
    on (engine/bundles/limits.py)."""
    ignored: list[Problem] = []
    source = flow_ids.with_flow_ids(source)
    meta, _ = read_metadata(source.files)
    documents, decision_files = _parse_documents(source, ignored)
    node_count = sum(limits.flow_nodes(t.getroot()) for t in documents.values())
    expression_count = sum(
        limits.expressions(t.getroot()) for t in (*documents.values(), *decision_files.values())
    )
    if limits.upload_size_problems(node_count, expression_count):
        return None
    keys: set[str] = set()
    for tree in documents.values():
        root = tree.getroot()
        keys.update(i.form for i in manifest.read_human_tasks(root) if i.form)
        keys.update(key for _, key in manifest.start_forms(root).values())
    forms: dict[str, dict[str, Any]] = {}
    form_sources.generated(documents, forms)
    form_files = _FormFiles(source.files, library)
    for key in sorted(keys):
        content = form_files.get(key)
        if content is None:
            continue
        try:
            forms[key] = load_form(content)
        except FormFileInvalid:
            continue
    return rules.Upload(documents, forms, _decision_outputs(decision_files), meta)


def _intake_problems(raw: dict[str, Any], human_tasks: dict[str, HumanTaskInfo]) -> list[Problem]:
    """The checklist's codes are unique; the intake elements bundle.json names are human tasks."""
    found = []
    codes = Counter(m["code"] for m in raw.get("materials", []))
    for code in sorted(c for c, n in codes.items() if n > 1):
        found.append(Problem(f"材料清单中的编码 '{code}' 重复", file=METADATA_FILE))
    for key in ("element", "correction_element"):
        element = raw.get("intake", {}).get(key)
        if element and element not in human_tasks:
            found.append(
                Problem(f"intake.{key} '{element}' 不是流程中的人工任务", file=METADATA_FILE)
            )
    return found


def _parse_specs(
    documents: Documents, decision_files: Documents, main: str, problems: list[Problem]
) -> str:
    parser = LianbanParser()
    try:
        for path, tree in decision_files.items():
            parser.add_dmn_xml(tree.getroot(), filename=path)
        for path, tree in documents.items():
            parser.add_bpmn_xml(tree, filename=path)
        spec = parser.get_spec(main)
        subprocess_specs = parser.get_subprocess_specs(main)
        return specs_to_json(spec, subprocess_specs)
    except ValidationException as err:
        line, where = _line_of({**documents, **decision_files}, getattr(err, "id", None))
        message = str(err).split("\n")[0]
        if parse_errors.duplicates(message):
            return ""
        problems.append(
            Problem(
                parse_errors.in_chinese(message, getattr(err, "id", None)),
                getattr(err, "id", None) or None,
                line or (err.line_number or None),
                where or err.file_name or None,
            )
        )
    except Exception as err:  # SpiffWorkflow raises assorted errors on malformed models
        problems.append(Problem(parse_errors.in_chinese(f"{type(err).__name__}: {err}", None)))
    return ""


def _checksum(files: dict[str, bytes], forms: dict[str, dict[str, Any]]) -> str:
    import json

    digest = hashlib.sha256()
    for path in sorted(files):
        if path.rsplit("/", 1)[-1] == METADATA_FILE or not path.lower().endswith(".json"):
            digest.update(path.encode() + b"\0" + files[path] + b"\0")
    digest.update(json.dumps(forms, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _time_limit_problems(
    raw: dict[str, Any],
    documents: dict[str, etree._ElementTree],
    human_tasks: dict[str, HumanTaskInfo],
) -> list[Problem]:
    """The elements bundle.json `time_limits` names for the law's limits (docs/time-limits.md):
    特别程序 and 听证 decisions are human tasks, 下级初审's start and 转报 exist."""
    limits = raw.get("time_limits", {})
    found = []
    for element in limits.get("special_procedures", {}):
        if element not in human_tasks:
            found.append(f"time_limits.special_procedures 中的 '{element}' 不是流程中的人工任务")
    for element in limits.get("hearing", {}).get("decisions", []):
        if element not in human_tasks:
            found.append(f"time_limits.hearing.decisions 中的 '{element}' 不是流程中的人工任务")
    preliminary = limits.get("preliminary", {})
    for key in ("starts_at", "forwarded_at"):
        element = preliminary.get(key)
        if element and not _line_of(documents, element)[1]:
            found.append(f"time_limits.preliminary.{key} 指向的元素 '{element}' 不存在")
    return [Problem(message, file=METADATA_FILE) for message in found]
