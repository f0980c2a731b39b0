"""Every BPMN element type a modeler's palette offers is either run to the end or refused at
upload with a Chinese message naming the element (issue 22). Each file in
tests/interop/files/elements/ is written the way the named modeler writes it, uploaded through
the API and run through it. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .harness import Interop

FILES = Path(__file__).parent / "files" / "elements"


def read(name: str) -> str:
    return (FILES / name).read_text(encoding="utf-8")


def open_tasks(case: dict[str, Any]) -> list[str]:
    return sorted(t["element"] for t in case["tasks"])


def task(case: dict[str, Any], element: str) -> dict[str, Any]:
    return next(t for t in case["tasks"] if t["element"] == element)


def refused_by_element(interop: Interop, name: str, content: str) -> dict[str, str]:
    answer = interop.upload(name, content)
    assert answer.status_code == 422, answer.get_json()
    return {p["element"]: p["message"] for p in answer.get_json()["errors"]}


# 1. link events


def test_link_events_go_on_at_the_catch_of_their_name(interop: Interop) -> None:
    body = interop.accepted("links.bpmn", read("bpmnio_link_events.bpmn"))
    # the catch and what follows it are reached through the link: no "无法从开始事件到达"
    assert not [w for w in body["warnings"] if "无法" in w["message"]], body["warnings"]
    case = interop.start("link_events")
    assert open_tasks(case) == ["Activity_0rev1ew"]
    assert interop.run_to_end(case) == ["Activity_0rev1ew", "Activity_1arch1v"]


def test_a_link_throw_without_a_catch_of_its_name_is_refused(interop: Interop) -> None:
    renamed = read("bpmnio_link_events.bpmn").replace(
        'id="LinkEventDefinition_1a2b3c4" name="去归档"',
        'id="LinkEventDefinition_1a2b3c4" name="归档"',
    )
    said = refused_by_element(interop, "links.bpmn", renamed)
    assert said == {
        "Event_0thr0w1": "链接抛出事件 '去归档' (Event_0thr0w1) 的链接 '去归档' 在同一流程中没有同名的"
        "链接捕获事件, 办件走到这里将无处可去: 请添加名称为 '去归档' 的链接捕获事件 "
        "(linkEventDefinition name), 或改正名称"
    }


# 2. signals


def test_a_signal_thrown_in_a_parallel_branch_reaches_the_waiting_catch(interop: Interop) -> None:
    interop.accepted("signal.bpmn", read("camunda_signal_parallel.bpmn"))
    case = interop.start("signal_parallel")
    assert open_tasks(case) == ["Activity_1supp1y"]  # the other branch waits on 材料齐全
    assert interop.run_to_end(case) == ["Activity_1supp1y", "Activity_0acc3pt"]


def test_a_signal_nothing_throws_is_refused_at_each_catch(interop: Interop) -> None:
    said = refused_by_element(interop, "never.bpmn", read("camunda_signal_never_thrown.bpmn"))
    tail = ": 本系统不能从流程之外发送信号; 请在流程中用信号抛出事件或信号结束事件发出它, 或删去这个信号事件"
    assert said == {
        "Event_0w1thdr": "信号 '申请人撤回' 没有任何元素发出, 边界事件 '申请人撤回' (Event_0w1thdr) "
        "永远不会触发" + tail,
        "Event_1p4id01": "信号 '已缴费' 没有任何元素发出, 办件将永远等待在信号事件 '等缴费' "
        "(Event_1p4id01)" + tail,
        "Event_0n0t1fy": "信号 '政策变更' 没有任何元素发出, 事件子流程的开始事件 '政策变更' "
        "(Event_0n0t1fy) 永远不会触发" + tail,
    }


# 3. event-based gateways


def test_an_event_gateway_takes_the_signal_branch_when_it_comes_first(interop: Interop) -> None:
    interop.accepted("gateway.bpmn", read("camunda_event_gateway_timer.bpmn"))
    case = interop.start("event_gateway_timer")
    assert open_tasks(case) == ["Activity_0p4y001"]
    assert interop.run_to_end(case) == ["Activity_0p4y001"]  # 已缴费: the timer branch is dropped
    interop.fire_timers(hours=3)  # its job finds nothing waiting
    view = interop.case(case["id"])
    assert (view["status"], view["tasks"]) == ("completed", [])


def test_an_event_gateway_takes_the_timer_branch_through_the_worker(interop: Interop) -> None:
    interop.accepted("gateway.bpmn", read("camunda_event_gateway_timer.bpmn"))
    case = interop.start("event_gateway_timer")
    assert interop.fire_timers(hours=1) == 0  # not due yet
    assert interop.fire_timers(hours=1, minutes=1) == 1
    view = interop.case(case["id"])
    assert open_tasks(view) == ["Activity_0p4y001", "Activity_1urg3a1"]  # 催缴 opened
    answer = interop.client.get(f"/api/v1/cases/{case['id']}/events", headers=interop.admin)
    fired = [e for e in answer.get_json()["events"] if e["type"] == "timer_fired"]
    assert [e["data"]["timers"] for e in fired] == [["Event_1t1m3r1"]]  # the timer event
    # 缴费登记 then throws 已缴费 with nothing waiting for it: the gateway already chose
    assert interop.run_to_end(view) == ["Activity_0p4y001", "Activity_1urg3a1"]


def test_an_event_gateway_with_two_timers_or_a_cycle_is_refused(interop: Interop) -> None:
    said = refused_by_element(interop, "two.bpmn", read("camunda_event_gateway_two_timers.bpmn"))
    assert said == {
        "Gateway_0w4it01": "事件网关 '等待' (Gateway_0w4it01) 之后有 2 个定时器 ('一小时后' "
        "(Event_0h0ur01)、'每五分钟' (Event_1cr0n01)): 本系统的事件网关只支持一个定时器分支; "
        "请只保留最早到期的一个",
        "Event_1cr0n01": "事件网关 '等待' (Gateway_0w4it01) 之后的定时器 '每五分钟' (Event_1cr0n01) "
        "是周期定时器 (timeCycle): 事件网关只等待一次, 请改用时长 (timeDuration) 或日期 (timeDate)",
    }


# 4. subprocesses, compensation, conditional and start events, end events


def test_an_ad_hoc_subprocess_is_refused(interop: Interop) -> None:
    said = refused_by_element(interop, "adhoc.bpmn", read("bpmnio_ad_hoc_subprocess.bpmn"))
    assert said == {
        "Activity_0adh0c1": "暂不支持临时子流程 '现场核查' (Activity_0adh0c1) (bpmn:adHocSubProcess): "
        "本系统不能让办理人自选其中的任务; 请改用普通子流程, 其中的任务用连线和网关连接"
    }


def test_a_transaction_runs_as_an_embedded_subprocess(interop: Interop) -> None:
    interop.accepted("transaction.bpmn", read("camunda_transaction.bpmn"))
    case = interop.start("transaction")
    assert open_tasks(case) == ["Activity_0p4y001"]
    assert interop.run_to_end(case) == ["Activity_0p4y001", "Activity_1b1ll01"]


def test_compensation_is_refused_naming_each_event_and_handler(interop: Interop) -> None:
    said = refused_by_element(interop, "comp.bpmn", read("camunda_compensation.bpmn"))
    tail = " (bpmn:compensateEventDefinition): 引擎不会执行补偿; 请删去它, 把撤销的步骤画成普通的任务和连线"
    assert said == {
        "Event_0c0mp01": "暂不支持补偿事件 'Event_0c0mp01'" + tail,
        "Event_1c0mp02": "暂不支持补偿事件 '撤销收费' (Event_1c0mp02)" + tail,
        "Activity_1r3fund": "暂不支持补偿处理任务 '退费' (Activity_1r3fund) "
        '(isForCompensation="true"): 它只由补偿事件启动, 而引擎不执行补偿; 请删去它, '
        "或画成普通的任务并用连线连上",
    }


def test_a_conditional_catch_event_is_refused(interop: Interop) -> None:
    said = refused_by_element(interop, "cond.bpmn", read("camunda_conditional_catch.bpmn"))
    assert said == {
        "Event_0r34dy1": "暂不支持条件事件 '材料就绪' (Event_0r34dy1) "
        "(bpmn:conditionalEventDefinition): 条件只在办件到达时判断一次, 之后不再判断, "
        "条件不成立时办件将永远等待; 请改用排他网关"
    }


def test_a_timer_start_event_of_the_process_is_refused(interop: Interop) -> None:
    said = refused_by_element(interop, "start.bpmn", read("camunda_timer_start.bpmn"))
    assert said == {
        "StartEvent_0m0nd4y": "流程 'timer_start' 的开始事件 '每周一 9 点' (StartEvent_0m0nd4y) "
        "是定时开始事件: 本系统的办件由收件人员开始, 不会按时间自动发起; "
        "请删去定时器定义, 改为普通开始事件"
    }
    plain = read("camunda_timer_start.bpmn")
    start = plain.index("      <bpmn:timerEventDefinition")
    end = plain.index("</bpmn:timerEventDefinition>") + len("</bpmn:timerEventDefinition>\n")
    interop.accepted("start.bpmn", plain[:start] + plain[end:])  # as a none start event, it runs
    assert interop.run_to_end(interop.start("timer_start")) == ["Activity_0p4tr01"]


def test_a_terminate_end_event_ends_the_case_and_cancels_the_other_branch(
    interop: Interop,
) -> None:
    interop.accepted("terminate.bpmn", read("bpmnio_terminate_end.bpmn"))
    case = interop.start("terminate_end")
    assert open_tasks(case) == ["Activity_0d3c1d1", "Activity_1c0py01"]
    done = interop.complete(task(case, "Activity_0d3c1d1"), {})
    assert done.status_code == 200, done.get_json()
    view = interop.case(case["id"])
    assert (view["status"], view["tasks"]) == ("completed", [])  # 抄送 cancelled


def test_an_error_end_event_is_caught_by_the_boundary_event(interop: Interop) -> None:
    interop.accepted("error.bpmn", read("camunda_error_boundary.bpmn"))
    missing = interop.start("error_boundary")
    done = interop.run_to_end(missing, {"Activity_0v3r1fy": {"complete": False}})
    assert done == ["Activity_0v3r1fy", "Activity_1n0t1fy"]  # 材料不全: 一次性告知
    assert interop.case(missing["id"])["outcome"]["element"] == "Event_1r3j3ct"
    whole = interop.start("error_boundary")
    done = interop.run_to_end(whole, {"Activity_0v3r1fy": {"complete": True}})
    assert done == ["Activity_0v3r1fy", "Activity_0d3c1d1"]


def test_an_escalation_throw_is_caught_by_a_non_interrupting_boundary_event(
    interop: Interop,
) -> None:
    interop.accepted("escalation.bpmn", read("camunda_escalation_boundary.bpmn"))
    case = interop.start("escalation_boundary")
    assert open_tasks(case) == ["Activity_0w0rk01", "Activity_1ch13f1"]  # both paths open
    assert sorted(interop.run_to_end(case)) == ["Activity_0w0rk01", "Activity_1ch13f1"]


# 5. the rest of the palette


def test_the_palette_s_other_shapes_run(interop: Interop) -> None:
    interop.accepted("palette.bpmn", read("bpmnio_palette.bpmn"))
    case = interop.start("palette")
    answers = {"Activity_0r3g1st": {"area": 200, "food": True}}
    done = interop.run_to_end(case, answers)
    assert done[0] == "Activity_0r3g1st"
    assert sorted(done[1:3]) == ["Activity_0f1r301", "Activity_1h34lth"]  # both inclusive paths
    assert done[3:] == ["Activity_0m4nu41"]  # the manual task is worked like a user task


def test_event_subprocesses_start_on_their_timer_and_on_a_signal_of_the_case(
    interop: Interop,
) -> None:
    interop.accepted("esp.bpmn", read("camunda_event_subprocesses.bpmn"))
    case = interop.start("event_subprocesses")
    assert open_tasks(case) == ["Activity_0acc3pt"]
    assert interop.fire_timers(days=1, minutes=1) == 1  # 一天后: 催办 opens beside 受理
    view = interop.case(case["id"])
    assert open_tasks(view) == ["Activity_0acc3pt", "Activity_0n4g001"]
    done = interop.complete(task(view, "Activity_0acc3pt"), {})  # then 加急 is thrown
    assert done.status_code == 200, done.get_json()
    view = interop.case(case["id"])
    assert open_tasks(view) == ["Activity_0n4g001", "Activity_1appr01", "Activity_1l34d3r"]
    assert sorted(interop.run_to_end(view)) == [
        "Activity_0n4g001",
        "Activity_1appr01",
        "Activity_1l34d3r",
    ]
