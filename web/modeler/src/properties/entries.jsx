// The panel's entries, in Chinese: 经办分组, 表单, 办理时限, 计时方式, 证照, 条件, 默认路径, 定时.
import {
  CheckboxEntry,
  SelectEntry,
  TextFieldEntry,
  isCheckboxEntryEdited,
  isSelectEntryEdited,
  isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useEffect, useRef, useState } from "@bpmn-io/properties-panel/preact/hooks";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject } from "bpmn-js/lib/util/ModelUtil";

import {
  CERTIFICATE_ACTIONS,
  CLOCK_PAUSE,
  MAX_WORKDAYS,
  MAX_WORK_HOURS,
  getCondition,
  getFormKey,
  getGroups,
  getProperty,
  getTimer,
  isDefaultFlow,
  setCondition,
  setDefaultFlow,
  setFormKey,
  setGroups,
  setProperty,
  setTimer,
  timerText,
  timerType,
} from "./model";

const ADMIN_PAGE = "管理员在「用户与分组」页面为分组添加成员";

/** The name of the lane the element sits in (its group when it names none), or "". */
function laneOf(element) {
  const lanes = getBusinessObject(element).get("lanes") || [];
  const lane = lanes[lanes.length - 1];
  return lane ? (lane.get("name") || lane.id || "").trim() : "";
}

// 经办分组 -----------------------------------------------------------------------------------

/** The groups that exist as a checkbox list with member counts, the task's own groups that
 * do not exist yet marked "0 人", and a field to add a new group. */
export function GroupsEntry({ element, id }) {
  const injector = useService("injector");
  const api = useService("lianbanPanelApi");
  const [known, setKnown] = useState(null);
  const [text, setText] = useState("");
  useEffect(() => {
    let live = true;
    api.loadGroups().then((found) => live && setKnown(found));
    return () => {
      live = false;
    };
  }, []);
  const chosen = getGroups(element);
  const lane = laneOf(element);
  const sizes = new Map((known || []).map((g) => [g.name, g.members]));
  const rows = [...(known || []).map((g) => g.name)];
  for (const name of chosen) if (!sizes.has(name)) rows.push(name);
  const toggle = (name, on) => {
    const next = on ? [...chosen, name] : chosen.filter((g) => g !== name);
    setGroups(injector, element, [...new Set(next)]);
  };
  const add = () => {
    const name = text.trim().replace(/,/g, "");
    if (name && !chosen.includes(name)) toggle(name, true);
    setText("");
  };
  const empty = chosen.filter((g) => !sizes.get(g));
  return (
    <div class="bio-properties-panel-entry lianban-groups" data-entry-id={id}>
      <label class="bio-properties-panel-label">经办分组</label>
      {known === null ? <div class="lianban-note">正在读取分组…</div> : null}
      <ul class="lianban-group-list">
        {rows.map((name) => {
          const members = sizes.get(name) || 0;
          return (
            <li class={members ? "" : "lianban-warning"} data-group={name}>
              <label>
                <input
                  type="checkbox"
                  checked={chosen.includes(name)}
                  onChange={(e) => toggle(name, e.target.checked)}
                />
                <span class="lianban-group-name">{name}</span>
                <span class="lianban-count">{members} 人</span>
              </label>
            </li>
          );
        })}
      </ul>
      <div class="lianban-add">
        <input
          class="bio-properties-panel-input"
          name="lianban-new-group"
          placeholder="新分组名称"
          value={text}
          onInput={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              add();
            }
          }}
        />
        <button type="button" class="lianban-button" onClick={add}>
          添加
        </button>
      </div>
      {chosen.length === 0 ? (
        <div class="bio-properties-panel-error">
          {lane
            ? `未选分组: 按所在泳道「${lane}」办理`
            : "人工任务须有经办分组: 在此选择, 或把任务放进泳道 (以泳道名为分组)"}
        </div>
      ) : null}
      {empty.length ? (
        <div class="lianban-warning-text">
          分组 {empty.map((g) => `「${g}」`).join("")} 还没有成员: 任务将无人可以办理。
          {ADMIN_PAGE}。
        </div>
      ) : (
        <div class="bio-properties-panel-description">可多选; 新分组的成员由{ADMIN_PAGE}。</div>
      )}
    </div>
  );
}

// 表单 ---------------------------------------------------------------------------------------

function formKeys(api) {
  const store = api.store();
  const keys = store && store.formKeys ? store.formKeys(api) : [];
  return keys.map((k) => (k.startsWith("forms/") ? k.slice("forms/".length) : k));
}

export function FormEntry({ element, id }) {
  const injector = useService("injector");
  const api = useService("lianbanPanelApi");
  const getOptions = () => {
    const current = getFormKey(element);
    const keys = formKeys(api);
    const options = [{ value: "", label: "(无表单)" }];
    for (const key of keys) options.push({ value: key, label: key });
    if (current && !keys.includes(current)) {
      options.push({ value: current, label: `${current} (草稿中没有这个表单)` });
    }
    return options;
  };
  return (
    <SelectEntry
      element={element}
      id={id}
      label="表单"
      getValue={() => getFormKey(element)}
      setValue={(value) => setFormKey(injector, element, value)}
      getOptions={getOptions}
      validate={(value) =>
        value && !formKeys(api).includes(value) ? `表单 '${value}' 不在草稿中, 上传时会被拒绝` : null
      }
      description="草稿中的表单; 在「表单」标签页新建或修改"
    />
  );
}

// 办理时限, 计时方式, 证照 --------------------------------------------------------------------

export function validTimeLimit(value) {
  if (!value) return null;
  if (/^[0-9]+$/.test(value)) {
    return Number(value) <= MAX_WORKDAYS ? null : `办理时限最多 ${MAX_WORKDAYS} 个工作日`;
  }
  // working hours, `4h` (engine/domain/timelimits.py hour_limit)
  if (/^[0-9]{1,4}h$/.test(value)) {
    const hours = Number(value.slice(0, -1));
    return hours >= 1 && hours <= MAX_WORK_HOURS ? null : `工作小时数应为 1 到 ${MAX_WORK_HOURS}`;
  }
  if (/^[\p{L}_][\p{L}\p{N}_]*$/u.test(value) && !value.startsWith("_")) return null;
  return "应为工作日数 (如 20)、工作小时数 (如 4h) 或数据字段名 (如 supply_workdays)";
}

export function TimeLimitEntry({ element, id }) {
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return (
    <TextFieldEntry
      element={element}
      id={id}
      label="办理时限 (工作日或 4h)"
      debounce={debounce}
      getValue={() => getProperty(element, "time_limit") || ""}
      setValue={(value, error) => {
        if (!error) setProperty(injector, element, "time_limit", (value || "").trim());
      }}
      validate={validTimeLimit}
      description="任务自己的时限: 工作日数 (如 20), 工作小时数 (如 4h, 按办公时间计算), 或存放天数的数据字段名 (如 supply_workdays); 留空为不单独限时"
    />
  );
}

// 退回 (engine/services/send_back.py): `send_back` "false" forbids it, a list of user task ids
// limits where this task may be sent back to; empty: any task the case did before it.
export function validSendBack(value, taskIds, own) {
  const text = (value || "").trim();
  if (!text || ["false", "no", "0", "否"].includes(text.toLowerCase())) return null;
  const wrong = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part && (part === own || !taskIds.includes(part)));
  return wrong.length ? `不是本流程中其他人工任务的 id: ${wrong.join(", ")}` : null;
}

export function SendBackEntry({ element, id }) {
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  const registry = useService("elementRegistry");
  const taskIds = registry
    .filter((el) => el.type === "bpmn:UserTask" || el.type === "bpmn:ManualTask")
    .map((el) => el.id);
  return (
    <TextFieldEntry
      element={element}
      id={id}
      label="退回"
      debounce={debounce}
      getValue={() => getProperty(element, "send_back") || ""}
      setValue={(value, error) => {
        if (!error) setProperty(injector, element, "send_back", (value || "").trim());
      }}
      validate={(value) => validSendBack(value, taskIds, element.id)}
      description="留空: 可退回到此前办理过的任一环节; false: 不允许从此任务退回; 或写可退回的环节 id, 以逗号分隔 (如 intake)"
    />
  );
}

export function ClockEntry({ element, id }) {
  const injector = useService("injector");
  const getOptions = () => {
    const options = [
      { value: "", label: "计时 (办件时限照常计算)" },
      { value: CLOCK_PAUSE, label: "暂停 (任务办理期间暂停计时)" },
    ];
    const current = getProperty(element, "clock");
    if (current && current !== CLOCK_PAUSE) {
      options.push({ value: current, label: `${current} (无效)` });
    }
    return options;
  };
  return (
    <SelectEntry
      element={element}
      id={id}
      label="计时方式"
      getValue={() => getProperty(element, "clock") || ""}
      setValue={(value) => setProperty(injector, element, "clock", value)}
      getOptions={getOptions}
      validate={(value) =>
        value && value !== CLOCK_PAUSE ? `计时方式只能是 计时 或 暂停, 不能是 '${value}'` : null
      }
      description="暂停: 补正、容缺材料补齐、检验检测、专家评审、公示等由申请人或第三方办理的环节"
    />
  );
}

function certificates(api) {
  const store = api.store();
  const bundle = store && store.bundle ? store.bundle() : null;
  const items = (bundle && Array.isArray(bundle.items) && bundle.items) || [];
  return items
    .filter((item) => item && item.certificate)
    .map((item) => item.certificate.title || item.name || item.code);
}

export function CertificateEntry({ element, id }) {
  const injector = useService("injector");
  const api = useService("lianbanPanelApi");
  const action = getProperty(element, "certificate_action") || "";
  const titles = certificates(api);
  let description = "办结时发证或撤销证照; 证照在「办件设置」的事项中定义";
  if (action === "issue") {
    description = titles.length
      ? `完成此任务时签发: ${titles.join("、")} (并停止办件计时)`
      : "bundle.json 的事项还没有定义证照: 请在「办件设置」中添加";
  } else if (action === "revoke") {
    description = titles.length
      ? `完成此任务时撤销本办件已签发的: ${titles.join("、")}`
      : "bundle.json 的事项还没有定义证照";
  }
  const getOptions = () => {
    const options = [
      { value: "", label: "(无)" },
      { value: "issue", label: "发证 (签发各事项的证照)" },
      { value: "revoke", label: "撤销 (撤销已签发的证照)" },
    ];
    if (action && !CERTIFICATE_ACTIONS.includes(action)) {
      options.push({ value: action, label: `${action} (无效)` });
    }
    return options;
  };
  return (
    <SelectEntry
      element={element}
      id={id}
      label="证照"
      getValue={() => action}
      setValue={(value) => setProperty(injector, element, "certificate_action", value)}
      getOptions={getOptions}
      validate={(value) =>
        value && !CERTIFICATE_ACTIONS.includes(value)
          ? `证照操作只能是 发证 或 撤销, 不能是 '${value}'`
          : null
      }
      description={description}
    />
  );
}

// 条件 and 默认路径 ----------------------------------------------------------------------------

const IDENT = /[\p{L}\p{N}_]/u;
const KEYWORDS = new Set(["and", "or", "not", "in", "is", "if", "else", "true", "false", "null", "None", "True", "False"]);

function tokenAt(text, caret) {
  let start = caret;
  while (start > 0 && IDENT.test(text[start - 1])) start -= 1;
  return { start, word: text.slice(start, caret) };
}

function replaceName(text, name, replacement) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "gu"), replacement);
}

function Marked({ text, offset }) {
  if (offset === null || offset === undefined || offset < 0 || offset > text.length) return null;
  const at = text.slice(offset, offset + 1) || " ";
  return (
    <code class="lianban-marked">
      {text.slice(0, offset)}
      <mark>{at}</mark>
      {text.slice(offset + 1)}
    </code>
  );
}

/** The condition of a deciding flow in our expression language: the fields available there
 * offered as you type, the text checked on the server (debounced) with the error's position
 * and a "did you mean". */
export function ConditionEntry({ element, id }) {
  const injector = useService("injector");
  const api = useService("lianbanPanelApi");
  const stored = getCondition(element);
  const isDefault = isDefaultFlow(element);
  const [text, setText] = useState(stored);
  const [caret, setCaret] = useState(stored.length);
  const [focused, setFocused] = useState(false);
  const [available, setAvailable] = useState(null);
  const [result, setResult] = useState(null);
  const written = useRef(stored);
  const writeTimer = useRef(null);
  const sequence = useRef(0);
  const input = useRef(null);

  // another element, or the model changed from elsewhere (undo): show what is stored
  useEffect(() => {
    if (stored !== written.current) {
      written.current = stored;
      setText(stored);
    }
  }, [element, stored]);

  useEffect(() => {
    let live = true;
    setAvailable(null);
    api
      .fields(element.id)
      .then((found) => live && setAvailable(found))
      .catch((err) => live && setAvailable({ fields: [], complete: false, error: err.message }));
    return () => {
      live = false;
    };
  }, [element.id]);

  useEffect(() => {
    const timer = setTimeout(() => {
      const seq = ++sequence.current;
      if (!text.trim()) {
        setResult(null);
        return;
      }
      const names = available && !available.error ? available.fields.map((f) => f.name) : null;
      api
        .check(text, names)
        .then((found) => seq === sequence.current && setResult(found))
        .catch((err) => seq === sequence.current && setResult({ ok: false, failed: err.message }));
    }, 350);
    return () => clearTimeout(timer);
  }, [text, available]);

  useEffect(() => () => clearTimeout(writeTimer.current), []);

  const update = (value, position) => {
    setText(value);
    setCaret(position === undefined ? value.length : position);
    clearTimeout(writeTimer.current);
    writeTimer.current = setTimeout(() => {
      written.current = value.trim() ? value : "";
      setCondition(injector, element, value);
    }, 300);
  };

  const { start, word } = tokenAt(text, caret);
  const fields = (available && available.fields) || [];
  const filter = focused && word && !KEYWORDS.has(word) ? word : "";
  const filtered = fields.filter((f) => !filter || f.name.includes(filter));
  const matching = filtered.length ? filtered : fields;
  const insert = (name) => {
    const next = text.slice(0, start) + name + text.slice(caret);
    update(next, start + name.length);
    if (input.current) input.current.focus();
  };

  let status = null;
  if (isDefault) {
    status = null;
  } else if (!text.trim()) {
    status = <div class="bio-properties-panel-error">网关的这条出口需要条件, 或设为默认路径</div>;
  } else if (result && result.failed) {
    status = <div class="lianban-warning-text">无法检查条件: {result.failed}</div>;
  } else if (result && result.error) {
    status = (
      <div class="bio-properties-panel-error lianban-check" data-check="error">
        <div>{result.error.message}</div>
        <Marked text={text.trim()} offset={result.error.offset === null ? null : result.error.offset - (text.length - text.trimStart().length)} />
        {result.error.hint ? <div class="lianban-hint">{result.error.hint}</div> : null}
      </div>
    );
  } else if (result && result.unknown && result.unknown.length) {
    const complete = available && available.complete;
    status = (
      <div
        class={complete ? "bio-properties-panel-error lianban-check" : "lianban-warning-text lianban-check"}
        data-check={complete ? "error" : "warning"}
      >
        {result.unknown.map((u) => (
          <div>
            字段 <code>{u.name}</code> 在这里之前没有表单或开始数据声明
            {u.suggestion ? (
              <span>
                ; 您是不是要找{" "}
                <button
                  type="button"
                  class="lianban-link"
                  title="改用这个字段"
                  onClick={() => update(replaceName(text, u.name, u.suggestion))}
                >
                  {u.suggestion}
                </button>
                ?
              </span>
            ) : null}
            {complete
              ? " (办件走到这里会出错而停住)"
              : " (途经没有表单的环节, 若它们不提供这个字段, 办件走到这里会出错)"}
            <div class="lianban-optional-hint">
              若只有部分路径设置这个字段, 请写作 <code>get("{u.name}", 默认值)</code>
            </div>
          </div>
        ))}
      </div>
    );
  } else if (result && result.ok) {
    status = (
      <div class="lianban-ok lianban-check" data-check="ok">
        ✓ 条件有效
      </div>
    );
  }

  let note = "";
  if (available && available.error) note = `无法读取可用字段: ${available.error}`;
  else if (available && !available.reached) note = "这条连线还没有从开始事件连通: 列出草稿中所有表单的字段";
  else if (available && !available.complete) note = "途经没有表单的环节: 可能还有这里未列出的字段";

  return (
    <div class="bio-properties-panel-entry lianban-condition" data-entry-id={id}>
      <label class="bio-properties-panel-label" for={`bio-properties-panel-${id}`}>
        条件
      </label>
      <textarea
        ref={input}
        id={`bio-properties-panel-${id}`}
        name={id}
        class="bio-properties-panel-input lianban-expression"
        rows={2}
        spellcheck={false}
        autocomplete="off"
        disabled={isDefault}
        placeholder={isDefault ? "默认路径不需要条件" : '如 intake_decision == "accept"'}
        value={text}
        onInput={(e) => update(e.target.value, e.target.selectionStart)}
        onKeyUp={(e) => setCaret(e.target.selectionStart)}
        onClick={(e) => setCaret(e.target.selectionStart)}
        onFocus={() => setFocused(true)}
        onBlur={() => setTimeout(() => setFocused(false), 200)}
      />
      {status}
      {isDefault ? null : (
        <div class="lianban-fields">
          <div class="lianban-fields-head">
            可用字段{available ? ` (${fields.length})` : " (读取中…)"}
            {filter && filtered.length ? ` · 匹配 “${filter}”, 点击插入` : " · 点击插入"}
          </div>
          <ul class="lianban-field-list">
            {matching.slice(0, 30).map((f) => (
              <li>
                <button type="button" class="lianban-field" data-field={f.name} onClick={() => insert(f.name)}>
                  <span class="lianban-field-name">{f.name}</span>
                  {f.title ? <span class="lianban-field-title">{f.title}</span> : null}
                  {f.type ? <span class="lianban-field-type">{f.type}</span> : null}
                </button>
              </li>
            ))}
          </ul>
          {note ? <div class="bio-properties-panel-description">{note}</div> : null}
          <div class="bio-properties-panel-description">
            写法: == != &lt; &gt; and or not in, 文本加引号 ("accept"), true/false; 比较相等用 ==
          </div>
        </div>
      )}
    </div>
  );
}

export function DefaultFlowEntry({ element, id }) {
  const injector = useService("injector");
  return (
    <CheckboxEntry
      element={element}
      id={id}
      label="默认路径"
      getValue={() => isDefaultFlow(element)}
      setValue={(value) => setDefaultFlow(injector, element, !!value)}
      description="其他出口的条件都不成立时走这条 (默认路径不写条件)"
    />
  );
}

// 定时 ---------------------------------------------------------------------------------------

const TIMER_HINTS = {
  timeDuration: "时长 (ISO 8601): P10D 为 10 天, PT2H 为 2 小时, P1DT12H 为 1 天 12 小时",
  timeDate: "日期时间 (ISO 8601): 2026-12-01T09:00:00+08:00",
  timeCycle: "周期 (ISO 8601): R3/PT1H 为每小时一次共 3 次, R/P1D 为每天一次",
};

export function TimerTypeEntry({ element, id }) {
  const injector = useService("injector");
  return (
    <SelectEntry
      element={element}
      id={id}
      label="定时类型"
      getValue={() => timerType(getTimer(element)) || ""}
      setValue={(value) => setTimer(injector, element, value, timerText(getTimer(element)))}
      getOptions={() => {
        const options = [
          { value: "timeDuration", label: "时长 (等待一段时间)" },
          { value: "timeDate", label: "日期 (到某个时刻)" },
          { value: "timeCycle", label: "周期 (重复)" },
        ];
        return timerType(getTimer(element)) ? options : [{ value: "", label: "(未设置)" }, ...options];
      }}
    />
  );
}

export function validTimer(type, value) {
  const text = (value || "").trim();
  if (!text) return "请填写定时的值";
  if (type === "timeDuration" && /^P/i.test(text) && !/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/i.test(text)) {
    return "时长格式不对: 如 P10D、PT2H、P1DT12H";
  }
  if (type === "timeCycle" && /^R/i.test(text) && !/^R\d*\/P/i.test(text)) {
    return "周期格式不对: 如 R3/PT1H";
  }
  return null;
}

export function TimerValueEntry({ element, id }) {
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  const type = timerType(getTimer(element)) || "timeDuration";
  return (
    <TextFieldEntry
      element={element}
      id={id}
      label="定时值"
      debounce={debounce}
      getValue={() => timerText(getTimer(element))}
      setValue={(value) => setTimer(injector, element, type, value || "")}
      validate={(value) => validTimer(type, value)}
      description={`${TIMER_HINTS[type]}。ISO 8601 值自动加引号; 也可写表达式 (如数据字段名)`}
    />
  );
}

export const EDITED = {
  select: isSelectEntryEdited,
  text: isTextFieldEntryEdited,
  checkbox: isCheckboxEntryEdited,
};

// Links to bundle.json (edited whole in 「办件设置」, H3's tab) --------------------------------

function readBundle(api) {
  const store = api.store();
  if (!store || !store.bundle) return null;
  return store.bundle() || {};
}

/** bundle.json is there but not valid JSON: the panel leaves it alone. */
function bundleBroken(api) {
  const store = api.store();
  return !!(store && store.get && store.get("bundle.json") && !store.bundle());
}

const BROKEN = "bundle.json 不是有效的 JSON: 请先在「办件设置」中修正";

function writeBundle(api, change) {
  const store = api.store();
  if (!store || !store.setBundle || bundleBroken(api)) return;
  const bundle = JSON.parse(JSON.stringify(store.bundle() || {}));
  change(bundle);
  store.setBundle(bundle);
}

/** 受理计时起点: bundle.json time_limits.starts_at names this element. */
export function StartsAtEntry({ element, id }) {
  const api = useService("lianbanPanelApi");
  const [, rerender] = useState(0);
  const bundle = readBundle(api) || {};
  const current = (bundle.time_limits && bundle.time_limits.starts_at) || "";
  let description = "办件从这里开始计时 (受理); 没有元素勾选时, 申请提交时开始计时";
  if (current && current !== element.id) description = `现在从「${current}」开始计时; 勾选则改为这里`;
  const broken = bundleBroken(api);
  return (
    <CheckboxEntry
      element={element}
      id={id}
      disabled={broken}
      label="受理: 从这里开始计时"
      getValue={() => current === element.id}
      setValue={(on) => {
        writeBundle(api, (b) => {
          const limits = typeof b.time_limits === "object" && b.time_limits ? b.time_limits : {};
          if (on) limits.starts_at = element.id;
          else if (limits.starts_at === element.id) delete limits.starts_at;
          b.time_limits = limits;
        });
        rerender((n) => n + 1);
      }}
      description={broken ? BROKEN : description}
    />
  );
}

const INTAKE_ROLES = [
  { value: "", label: "(无)" },
  { value: "element", label: "一窗受理 (受理、补正、不予受理的决定)" },
  { value: "correction_element", label: "申请人补正 (补正后回到受理)" },
];

/** The task's role in bundle.json's intake: 一窗受理 (intake.element) or 补正. */
export function IntakeRoleEntry({ element, id }) {
  const api = useService("lianbanPanelApi");
  const [, rerender] = useState(0);
  const bundle = readBundle(api) || {};
  const intake = (typeof bundle.intake === "object" && bundle.intake) || {};
  const role = INTAKE_ROLES.find((r) => r.value && intake[r.value] === element.id);
  return (
    <SelectEntry
      element={element}
      id={id}
      label="受理环节"
      disabled={bundleBroken(api)}
      getValue={() => (role ? role.value : "")}
      setValue={(value) => {
        writeBundle(api, (b) => {
          const found = typeof b.intake === "object" && b.intake ? b.intake : {};
          for (const r of INTAKE_ROLES) {
            if (r.value && found[r.value] === element.id) delete found[r.value];
          }
          if (value) found[value] = element.id;
          if (Object.keys(found).length) b.intake = found;
          else delete b.intake;
        });
        rerender((n) => n + 1);
      }}
      getOptions={() => INTAKE_ROLES}
      description={
        bundleBroken(api) ? BROKEN : "写入 bundle.json 的 intake; 受理决定字段等在「办件设置」中设置"
      }
    />
  );
}
