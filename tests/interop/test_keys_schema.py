"""Bundle keys and the choice of the main process for files from Bizagi, Signavio and the OMG
reference set (several pools, ids starting with `_`, `isExecutable` false or missing), and schema
violations said in Chinese (issue 22, helper 6). The files are in files/keys/."""

from __future__ import annotations

import json
from pathlib import Path

from engine.bpmn.namespaces import NSMAP
from engine.bpmn.parser import dmn_schema_errors, schema_errors
from engine.bpmn.schema_messages import translate
from engine.bpmn.xml import parse_xml

from .harness import Interop

FILES = Path(__file__).parent / "files" / "keys"

BIZAGI = (FILES / "bizagi_pools.bpmn").read_text(encoding="utf-8")
BIZAGI_PROCESS = "Id_7f3e9c21-6b4a-4d58-8e0f-1a2b3c4d5e6f"
BIZAGI_EMPTY_POOL = "Id_c4d5e6f7-0812-4a3b-9c4d-5e6f7a8b9c0d"
SIGNAVIO = (FILES / "signavio_not_executable.bpmn").read_text(encoding="utf-8")
SIGNAVIO_PROCESS = "sid-5d2a8f1c-3e6b-4907-b4c2-9a1e7f3d5b28"
OMG = (FILES / "omg_two_pools.bpmn").read_text(encoding="utf-8")
OMG_BANK = "_3c1f8e2a-6d4b-4f90-a7c5-2e8b1d9f6a34"
OMG_CUSTOMER = "_e7a2c5d9-4b18-4e3f-96a0-1d8c7b2f5e63"
HAND_EDITED = (FILES / "camunda_hand_edited.bpmn").read_text(encoding="utf-8")


def _line(text: str, needle: str) -> int:
    """The line of `text` (1-based) holding `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _errors(interop: Interop, name: str, content: str | dict[str, str]) -> list[dict[str, object]]:
    answer = interop.upload(name, content)
    assert answer.status_code == 422, answer.get_json()
    errors: list[dict[str, object]] = answer.get_json()["errors"]
    return errors


# the main process


def test_bizagi_pools_with_the_real_process_not_executable_say_which_to_mark(
    interop: Interop,
) -> None:
    errors = _errors(interop, "bizagi_pools.bpmn", BIZAGI)
    assert len(errors) == 1, errors
    error = errors[0]
    message = str(error["message"])
    assert message.startswith("没有可执行的流程 (isExecutable)")
    # what to do, about the process that has the elements, not Bizagi's empty main pool
    assert f"把要运行的流程 (如 '{BIZAGI_PROCESS}') 设为可执行 (isExecutable=\"true\")" in message
    # every process found, with its name, its marking and its size
    assert (
        f"'{BIZAGI_PROCESS}' (营业执照变更): isExecutable=\"false\", 不可执行, 3 个元素" in message
    )
    assert (
        f"'{BIZAGI_EMPTY_POOL}' (Main Process): 未写 isExecutable, 视为可执行, 没有任何元素"
        in message
    )
    assert error["element"] == BIZAGI_PROCESS
    assert error["line"] == _line(BIZAGI, f'<process id="{BIZAGI_PROCESS}"')
    assert error["file"] == "bizagi_pools.bpmn"


def test_bizagi_pools_once_marked_executable_run_and_the_empty_pool_is_ignored(
    interop: Interop,
) -> None:
    marked = BIZAGI.replace('isExecutable="false"', 'isExecutable="true"')
    bundle = interop.accepted("bizagi_pools.bpmn", marked)
    assert bundle["key"] == BIZAGI_PROCESS
    case = interop.start(BIZAGI_PROCESS)
    assert case["tasks"][0]["groups"] == ["registration"]  # the Bizagi lane
    assert interop.run_to_end(case) == ["Id_b2c3d4e5-f607-4819-a2b3-c4d5e6f70819"]


def test_signavio_process_marked_not_executable_is_named_and_runs_once_marked(
    interop: Interop,
) -> None:
    (error,) = _errors(interop, "signavio.bpmn", SIGNAVIO)
    assert f"把要运行的流程 (如 '{SIGNAVIO_PROCESS}') 设为可执行" in str(error["message"])
    assert f"'{SIGNAVIO_PROCESS}' (食品经营许可延续): isExecutable=\"false\"" in str(
        error["message"]
    )
    assert error["element"] == SIGNAVIO_PROCESS

    marked = SIGNAVIO.replace('isExecutable="false"', 'isExecutable="true"')
    bundle = interop.accepted("signavio.bpmn", marked)
    assert bundle["key"] == SIGNAVIO_PROCESS  # "sid-" ids are keys as they are
    case = interop.start(SIGNAVIO_PROCESS)
    assert interop.run_to_end(case) == ["sid-C7F2A9D4-1E6B-4358-8A3D-0F9B6E2C4D71"]


def test_omg_pools_without_is_executable_list_the_candidates(interop: Interop) -> None:
    (error,) = _errors(interop, "omg_two_pools.bpmn", OMG)
    message = str(error["message"])
    assert message.startswith(
        f"无法确定主流程: 有 2 个可执行的流程 ('{OMG_BANK}'、'{OMG_CUSTOMER}') 都没有被调用活动调用"
    )
    assert f'请在 bundle.json 中写 {{"process": "{OMG_BANK}"}} 指定要运行的那个' in message
    assert f"'{OMG_BANK}' (银行 - 开立账户): 未写 isExecutable, 视为可执行, 3 个元素" in message
    assert f"'{OMG_CUSTOMER}' (客户 - 开立账户): 未写 isExecutable" in message
    assert error["file"] == "bundle.json"


def test_a_main_process_id_starting_with_underscore_says_how_to_set_the_key(
    interop: Interop,
) -> None:
    chosen = {"omg/two_pools.bpmn": OMG, "bundle.json": json.dumps({"process": OMG_BANK})}
    (error,) = _errors(interop, "account.zip", chosen)
    assert error["message"] == (
        f"事项包标识取自主流程的 id '{OMG_BANK}', 但标识只能以字母或数字开头, 只能包含字母、数字、"
        '_ . -, 最长 64 个字符: 请在 bundle.json 中写 {"key": '
        f'"{OMG_BANK[1:]}"}} 指定标识 (上传 zip, 与 .bpmn 文件放在一起), 或在建模工具中把流程 '
        "id 改成这样的形式"
    )
    assert error["element"] == OMG_BANK
    assert error["line"] == _line(OMG, f'<semantic:process id="{OMG_BANK}"')
    assert error["file"] == "omg/two_pools.bpmn"

    keyed = {**chosen, "bundle.json": json.dumps({"process": OMG_BANK, "key": "open-account"})}
    bundle = interop.accepted("account.zip", keyed)
    assert (bundle["key"], bundle["name"]) == ("open-account", "银行 - 开立账户")
    case = interop.start("open-account")
    assert interop.run_to_end(case) == ["_2a7e4c9f-5b16-4d38-a0e7-9c2b6f4d1a85"]


def test_bundle_json_naming_a_process_marked_not_executable_says_so(interop: Interop) -> None:
    chosen = {"b.bpmn": BIZAGI, "bundle.json": json.dumps({"process": BIZAGI_PROCESS})}
    (error,) = _errors(interop, "b.zip", chosen)
    assert str(error["message"]).startswith(
        f"bundle.json 指定的主流程 '{BIZAGI_PROCESS}' 标为不可执行 (isExecutable=\"false\")"
    )
    unknown = {"b.bpmn": BIZAGI, "bundle.json": json.dumps({"process": "nowhere"})}
    (error,) = _errors(interop, "b.zip", unknown)
    assert str(error["message"]).startswith("bundle.json 指定的主流程 'nowhere' 不存在或不可执行.")
    assert f"'{BIZAGI_PROCESS}' (营业执照变更)" in str(error["message"])


def test_a_process_without_any_element_says_to_draw_one(interop: Interop) -> None:
    # written as bpmn.io (bpmn-js 17) saves a new diagram whose start event was deleted
    empty = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_1" '
        'targetNamespace="http://bpmn.io/schema/bpmn" exporter="bpmn-js (https://demo.bpmn.io)" '
        'exporterVersion="17.0.2">\n  <bpmn:process id="Process_1" isExecutable="false" />\n'
        "</bpmn:definitions>\n"
    )
    (error,) = _errors(interop, "empty.bpmn", empty)
    assert error["message"] == (
        "流程中没有任何元素: 请画出开始事件、任务和结束事件后再上传. 上传中的流程: 'Process_1': "
        'isExecutable="false", 不可执行, 没有任何元素'
    )
    assert (error["element"], error["line"]) == ("Process_1", 3)


# schema violations in Chinese


def test_a_hand_edited_camunda_file_gets_each_violation_in_chinese(interop: Interop) -> None:
    errors = _errors(interop, "renewal.bpmn", HAND_EDITED)
    said = {(e["element"], e["line"], str(e["message"])) for e in errors}
    prefix = "不符合 BPMN 2.0 规范: "

    def found(element: str, needle: str, text: str) -> None:
        line = _line(HAND_EDITED, needle)
        assert (element, line, prefix + text) in said, (element, line, text, said)

    found(
        "licence_renewal",
        '<bpmn:process id="licence_renewal"',
        "元素 bpmn:process ('licence_renewal'): 属性 isExecutable 的值 'True' 不是有效的布尔值: "
        "请写 true 或 false (小写) ['True' is not a valid value of the atomic type 'xs:boolean'.]",
    )
    found(
        "Activity_review",
        'candidateGroups="food_safety">',
        "元素 bpmn:userTask ('Activity_review') 不能有属性 candidateGroups (规范中没有这个属性: "
        "扩展属性须带已声明的命名空间前缀) [The attribute 'candidateGroups' is not allowed.]",
    )
    found(
        "Activity_review",
        'name="复核"',
        "元素 bpmn:userTask ('Activity_review'): id 'Activity_review' 重复: 文档中已有元素使用"
        "这个 id, 每个 id 只能用一次 ['Activity_review' is not a valid value of the atomic "
        "type 'xs:ID'.]",
    )
    found(
        "1st_check",
        'id="1st_check"',
        "元素 bpmn:exclusiveGateway ('1st_check'): '1st_check' 不是有效的 id: id 须以字母或 _ "
        "开头, 只能包含字母、数字、_ - ., 不能有空格或冒号 ['1st_check' is not a valid value of "
        "the atomic type 'xs:ID'.]",
    )
    found(
        "1st_check",
        'id="1st_check"',
        "元素 bpmn:exclusiveGateway ('1st_check'): 属性 gatewayDirection 的值 'Split' 不在允许的"
        "取值中 (Unspecified, Converging, Diverging, Mixed) [[facet 'enumeration'] The value "
        "'Split' is not an element of the set {'Unspecified', 'Converging', 'Diverging', "
        "'Mixed'}.]",
    )
    found(
        "Flow_2g3h4i5",
        'id="Flow_2g3h4i5" sourceRef',
        "元素 bpmn:sequenceFlow ('Flow_2g3h4i5'): 属性 targetRef 引用的 '1st_check' 不是有效的 "
        "id: id 须以字母或 _ 开头, 只能包含字母、数字、_ - ., 不能有空格或冒号 ['1st_check' is "
        "not a valid value of the atomic type 'xs:IDREF'.]",
    )
    found(
        "Flow_3j4k5l6",
        'id="Flow_3j4k5l6" sourceRef',
        "元素 bpmn:sequenceFlow ('Flow_3j4k5l6') 缺少必需的属性 targetRef [The attribute "
        "'targetRef' is required but missing.]",
    )
    found(
        "licence_renewal",
        '<bpmn:process id="licence_renewal"',
        "元素 bpmn:process ('licence_renewal') 中不能直接写文字, 只能包含子元素 (文字请放在 "
        "bpmn:documentation 中) [Character content other than whitespace is not allowed because "
        "the content type is 'element-only'.]",
    )
    assert not any("{http" in str(e["message"]) for e in errors)


BIZAGI_ROOT = (
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bizagi="http://www.bizagi.com/bpmn20" id="Id_d" targetNamespace="http://x">\n'
)


def test_elements_out_of_place_name_the_element_around_them_and_what_may_stand_there() -> None:
    # written as Bizagi Modeler 3.x exports, then an extension moved out of extensionElements
    # and a task's incoming put after its outgoing
    # (libxml2 checks no more of a parent's content after an element out of place: two files)
    document = BIZAGI_ROOT + '<process id="Id_p">\n<bizagi:BizagiProperties/>\n</process>'
    errors = schema_errors(parse_xml((document + "</definitions>").encode()))
    document = (
        BIZAGI_ROOT + '<process id="Id_p">\n\n'
        '<task id="Id_t"><outgoing>Id_f</outgoing><incoming>Id_g</incoming></task>\n'
        "</process>\n</definitions>"
    )
    errors += schema_errors(parse_xml(document.encode()))
    assert errors[0][1:] == (3, "Id_p")
    assert errors[0][0].startswith(
        "'Id_p' 中的元素 bizagi:BizagiProperties 不能出现在这里 (位置或顺序不对, 或不能放在它的"
        "上级元素中); 其他命名空间的扩展内容须放在 bpmn:extensionElements 中; 这里可以是: "
        "bpmn:documentation、bpmn:extensionElements、"
    )
    assert errors[0][0].endswith("[This element is not expected.]")
    assert errors[1][1:] == (4, "Id_t")
    assert errors[1][0].startswith(
        "'Id_t' 中的元素 bpmn:incoming 不能出现在这里 (位置或顺序不对, 或不能放在它的上级元素中); "
        "这里可以是: bpmn:outgoing、bpmn:ioSpecification"
    )


def test_values_of_other_types_are_said_with_the_type_in_plain_words() -> None:
    document = (
        BIZAGI_ROOT + '<process id="Id_p"><task id="Id_t" startQuantity="两个"/></process>\n'
        '<collaboration id="Id_c"><participant id="Id_x" processRef="流程 一"/></collaboration>\n'
        '<process id="Id_q"><task id="Id_u"><multiInstanceLoopCharacteristics>'
        '<complexBehaviorDefinition id="Id_b"/></multiInstanceLoopCharacteristics></task>'
        "</process>\n</definitions>"
    )
    messages = [message for message, _, _ in schema_errors(parse_xml(document.encode()))]
    assert messages[0] == (
        "元素 bpmn:task ('Id_t'): 属性 startQuantity 的值 '两个' 不是有效的整数 ['两个' is not a "
        "valid value of the atomic type 'xs:integer'.]"
    )
    assert messages[1].startswith(
        "元素 bpmn:participant ('Id_x'): 属性 processRef 的值 '流程 一' 不是有效的限定名 (QName)"
    )
    assert messages[2] == (
        "元素 bpmn:complexBehaviorDefinition ('Id_b') 缺少子元素, 应有: bpmn:documentation、"
        "bpmn:extensionElements、bpmn:condition [Missing child element(s).]"
    )


def test_dmn_violations_are_said_in_chinese_with_the_dmn_prefix() -> None:
    document = (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" '
        'namespace="http://x"><decision id="route" name="路由" colour="red"/></definitions>'
    )
    ((message, line, element),) = dmn_schema_errors(parse_xml(document.encode()))
    assert (message, line, element) == (
        "元素 dmn:decision ('route') 不能有属性 colour (规范中没有这个属性: 扩展属性须带已声明"
        "的命名空间前缀) [The attribute 'colour' is not allowed.]",
        1,
        "route",
    )


def test_message_shapes_libxml2_gives_outside_bpmn_are_translated_too() -> None:
    # libxml2 does not check BPMN's IDREFs against the ids (our own checks do: "连线 'f' 的终点
    # 'x' 不是同一流程中的元素"); a DTD-validated document's unknown IDREF reads like this
    unknown = 'IDREF attribute targetRef references an unknown ID "nowhere"'
    assert translate(unknown, NSMAP).startswith("文档: 引用的 id 'nowhere' 不存在")
    other = "Element '{urn:x}thing': Some message libxml2 may add one day."
    assert translate(other, NSMAP, holder_id="p") == (
        "'p' 中的元素 thing (命名空间 urn:x): Some message libxml2 may add one day."
    )


# files without a diagram (the pages lay them out: tests/browser/test_interop_diagrams.py)


def test_an_engine_test_file_without_diagram_interchange_is_accepted_and_runs(
    interop: Interop,
) -> None:
    no_di = (FILES / "camunda_engine_test_no_di.bpmn").read_text(encoding="utf-8")
    assert "BPMNDiagram" not in no_di
    bundle = interop.accepted("no_di.bpmn", no_di)
    assert bundle["key"] == "permitRenewal"
    case = interop.start("permitRenewal")
    assert interop.run_to_end(case) == ["checkDocuments", "approve"]


def test_a_file_whose_diagram_misses_an_element_is_accepted_and_runs(interop: Interop) -> None:
    broken = (FILES / "camunda_broken_di.bpmn").read_text(encoding="utf-8")
    interop.accepted("broken_di.bpmn", broken)
    case = interop.start("permit_review")
    assert interop.run_to_end(case) == ["Activity_1q0w7ze", "approve"]
