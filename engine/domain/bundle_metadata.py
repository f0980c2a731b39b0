"""A bundle's `bundle.json`, typed: read once per version, every section with the defaults a
bundle that leaves it out gets (docs/bundles.md).

engine/bundles/metadata.py checks the file at upload, then reads it here; a stored version reads
it again when loaded (`BundleVersion.meta`). Versions stored before a key existed read as if it
were left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .certificates import CertificateSpec
from .suspension import ART45_KINDS

DEFAULT_WARNING_WORKDAYS = 2
# The Administrative Licensing Law's own limits, in working days (docs/time-limits.md)
INTAKE_WORKDAYS = 5  # Art. 32: accept, refuse or ask for 补正 within 5 days
INTAKE_WARNING_WORKDAYS = 1  # 预警 when this many working days of the intake limit are left
EXTENSION_WORKDAYS = 10  # Art. 42: the head of the office may extend by 10
DEFAULT_EXTENSION_GROUP = "office_heads"  # who approves a 延期 unless the bundle says
DELIVERY_WORKDAYS = 10  # Art. 44: certificates issued or served within 10 days of the decision
PRELIMINARY_WORKDAYS = 20  # Art. 43: a lower level's preliminary review
HEARING_REQUEST_WORKDAYS = 5  # Art. 47: the applicant asks for a hearing within 5 days
HEARING_WORKDAYS = 20  # Art. 47: the hearing is held within 20 days of the request
DEFAULT_RECTIFICATION_WORKDAYS = 10
# the task property naming the items whose certificates its `certificate_action` concerns
CERTIFICATE_ITEMS = "certificate_items"
# the task properties of a 注销 of a certificate any case issued: the case data field holding its
# number, and the kinds (items[].code of the issuing bundle) the task may cancel ("a, b")
CANCELS_CERTIFICATE = "cancels_certificate"
CANCELS_KINDS = "cancels_kinds"
DEFAULT_REMINDER_DAYS = (30, 7)


@dataclass(frozen=True)
class Item:
    """One 事项 of the bundle (bundle.json `items[]`) and the certificate it issues, if any."""

    code: str
    name: str
    department: str | None = None  # 承办部门
    statutory_workdays: int | None = None
    promised_workdays: int | None = None
    promised_hours: int | None = None  # 承诺 in working hours ("4 个工作小时"), beside or instead
    certificate: CertificateSpec | None = None
    # an expression over the case data (the gateway language); None: the item always applies
    applies_if: str | None = None
    applies_when: str = ""  # the same in words, for the guide ("销售卷烟的")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Item:
        return cls(
            code=str(raw["code"]),
            name=str(raw.get("name", raw["code"])),
            department=raw.get("department"),
            statutory_workdays=_whole(raw.get("statutory_workdays")),
            promised_workdays=_whole(raw.get("promised_workdays")),
            promised_hours=_whole(raw.get("promised_hours")),
            certificate=CertificateSpec.from_item(raw),
            applies_if=raw.get("applies_if") or None,
            applies_when=str(raw.get("applies_when") or ""),
        )


@dataclass(frozen=True)
class Material:
    """One entry of the 一次性告知 checklist (bundle.json `materials[]`)."""

    code: str
    name: str
    required: bool = True
    deferrable: bool = False  # may be supplied later under 容缺受理
    note: str = ""
    # asked of a case only when this holds on its data (the language of `items[].applies_if`),
    # or when the item `item` names applies; neither: always
    applies_if: str | None = None
    item: str | None = None
    applies_when: str = ""  # the condition in words, for the guide ("销售卷烟的")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Material:
        return cls(
            code=raw["code"],
            name=raw["name"],
            required=raw.get("required", True),
            deferrable=raw.get("deferrable", False),
            note=raw.get("note", ""),
            applies_if=raw.get("applies_if") or None,
            item=raw.get("item") or None,
            applies_when=str(raw.get("applies_when") or ""),
        )

    @property
    def conditional(self) -> bool:
        """Whether the material is asked of some cases only."""
        return self.applies_if is not None or self.item is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "required": self.required,
            "deferrable": self.deferrable,
            "note": self.note,
        }


@dataclass(frozen=True)
class ApplicantFields:
    """Which case data fields hold the parties (bundle.json `applicant`)."""

    name_field: str = "applicant_name"
    id_field: str = "applicant_id_number"
    agent_field: str = "agent_name"  # 帮办代办
    agent_id_field: str = "agent_id_number"
    holder_field: str | None = None  # the certificate holder, e.g. the shop's name
    phone_field: str = "contact_phone"
    email_field: str = "contact_email"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ApplicantFields:
        return cls(**{k: raw[k] for k in _APPLICANT_KEYS if k in raw})

    @property
    def people(self) -> tuple[str, str, str, str]:
        """The fields naming the applicant and the agent: name and id number of each."""
        return (self.name_field, self.id_field, self.agent_field, self.agent_id_field)


_APPLICANT_KEYS = tuple(ApplicantFields.__dataclass_fields__)


@dataclass(frozen=True)
class IntakePolicy:
    """一窗受理 (bundle.json `intake`): its task, the field holding its decision, the decision
    value meaning 补正 and the field listing the materials to correct."""

    element: str = "intake"
    decision_field: str = "intake_decision"
    missing_field: str = "missing_materials"
    correct_value: str = "correct"
    correction_element: str | None = None  # 申请人补正: checked at upload, not used otherwise
    # the decision values the dashboard counts (issue 21): 不予受理, 容缺受理, 告知承诺
    refuse_value: str = "refuse"
    gaps_value: str = "accept_with_gaps"
    commitment_value: str = "commitment"
    # whether bundle.json names the element: only then is it the window (case_access.py)
    element_given: bool = False

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IntakePolicy:
        given = {k: raw[k] for k in _INTAKE_KEYS if k in raw}
        return cls(**given, element_given="element" in given)

    def is_correction(self, element: str | None, form: Mapping[str, Any]) -> bool:
        """Whether completing `element` with `form` decided 补正."""
        return element == self.element and form.get(self.decision_field) == self.correct_value


_INTAKE_KEYS = (
    "element",
    "decision_field",
    "missing_field",
    "correct_value",
    "refuse_value",
    "gaps_value",
    "commitment_value",
    "correction_element",
)


@dataclass(frozen=True)
class TimePolicy:
    """A bundle's time limits (bundle.json `time_limits` and its items' limits)."""

    limit: int | None = None  # 承诺时限: the longest promised limit of its items, unless given
    statutory_limit: int | None = None  # 法定时限
    starts_at: str | None = None  # the element whose completion is 受理; None: the case start
    warning: int = DEFAULT_WARNING_WORKDAYS  # 预警 this many working days before the deadline
    escalation_group: str | None = None  # who is given a 督办 task when a limit is passed
    # 挂起 of these kinds stops the clock (engine/domain/suspension.py; Art. 45 by default)
    suspension_stops_clock: tuple[str, ...] = ART45_KINDS
    intake_limit: int = INTAKE_WORKDAYS  # Art. 32 (applies to the bundle's `intake.element`)
    intake_warning: int = INTAKE_WARNING_WORKDAYS
    extension: ExtensionPolicy = field(default_factory=lambda: ExtensionPolicy())
    delivery_limit: int = DELIVERY_WORKDAYS  # Art. 44: tasks with `certificate_action: issue`
    # Art. 45: element -> the special procedure it is (the clock stops while it is open)
    special_procedures: Mapping[str, SpecialProcedure] = field(default_factory=dict)
    preliminary: PreliminaryPolicy | None = None  # Art. 43
    hearing: HearingPolicy | None = None  # Arts. 46–47
    # the limits `time_limits` states itself (then no item's limit counts for it)
    limit_given: bool = False
    statutory_given: bool = False

    @classmethod
    def from_dict(cls, limits: Mapping[str, Any], items: tuple[Item, ...]) -> TimePolicy:
        """From bundle.json `time_limits`; a limit it leaves out is the longest of the items'."""

        def longest(key: str, of_item: list[int | None]) -> int | None:
            if key in limits:
                return int(limits[key])
            found = [days for days in of_item if days is not None]
            return max(found) if found else None

        return cls(
            limit=longest("promised_workdays", [i.promised_workdays for i in items]),
            statutory_limit=longest("statutory_workdays", [i.statutory_workdays for i in items]),
            # 受理 at the upper level is the lower level's forwarding (Art. 43), unless given
            starts_at=limits.get("starts_at", limits.get("preliminary", {}).get("forwarded_at")),
            warning=int(limits.get("warning_workdays", DEFAULT_WARNING_WORKDAYS)),
            escalation_group=limits.get("escalation_group"),
            suspension_stops_clock=tuple(limits.get("suspension_stops_clock", ART45_KINDS)),
            intake_limit=int(limits.get("intake_workdays", INTAKE_WORKDAYS)),
            intake_warning=int(limits.get("intake_warning_workdays", INTAKE_WARNING_WORKDAYS)),
            extension=ExtensionPolicy.from_dict(limits.get("extension", {})),
            delivery_limit=int(limits.get("delivery_workdays", DELIVERY_WORKDAYS)),
            special_procedures={
                element: SpecialProcedure(str(p["kind"]), p.get("expected_workdays"))
                for element, p in limits.get("special_procedures", {}).items()
            },
            preliminary=PreliminaryPolicy.from_dict(limits["preliminary"])
            if "preliminary" in limits
            else None,
            hearing=HearingPolicy.from_dict(limits["hearing"]) if "hearing" in limits else None,
            limit_given="promised_workdays" in limits,
            statutory_given="statutory_workdays" in limits,
        )

    def for_items(self, applying: tuple[Item, ...]) -> tuple[int | None, int | None]:
        """The promised and statutory limits of a case applying for `applying` only: those
        `time_limits` states, else the longest of these items' (None: none of them has one)."""

        def longest(given: bool, stated: int | None, of_item: list[int | None]) -> int | None:
            if given:
                return stated
            found = [days for days in of_item if days is not None]
            return max(found) if found else None

        return (
            longest(self.limit_given, self.limit, [i.promised_workdays for i in applying]),
            longest(
                self.statutory_given,
                self.statutory_limit,
                [i.statutory_workdays for i in applying],
            ),
        )


@dataclass(frozen=True)
class ExtensionPolicy:
    """延期 (Art. 42): at most `max_workdays` more, approved by `approver_group`; once, unless
    `further_law` names the law that allows another."""

    max_workdays: int = EXTENSION_WORKDAYS
    approver_group: str = DEFAULT_EXTENSION_GROUP
    further_law: str | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ExtensionPolicy:
        return cls(
            max_workdays=int(raw.get("max_workdays", EXTENSION_WORKDAYS)),
            approver_group=str(raw.get("approver_group", DEFAULT_EXTENSION_GROUP)),
            further_law=raw.get("further_law"),
        )


@dataclass(frozen=True)
class SpecialProcedure:
    """特别程序 (Art. 45): its kind (engine/domain/suspension.py ART45_KINDS) and how many
    working days it is expected to take (told to the applicant), if the bundle says."""

    kind: str
    expected_workdays: int | None = None


@dataclass(frozen=True)
class PreliminaryPolicy:
    """A lower level's preliminary review (Art. 43): from `starts_at` (None: the case start) to
    the completion of `forwarded_at` (转报), within `statutory_limit`; the upper level's clock
    starts at the forwarding."""

    forwarded_at: str
    starts_at: str | None = None
    statutory_limit: int = PRELIMINARY_WORKDAYS
    level: str = "下级机关"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PreliminaryPolicy:
        return cls(
            forwarded_at=str(raw["forwarded_at"]),
            starts_at=raw.get("starts_at"),
            statutory_limit=int(raw.get("statutory_workdays", PRELIMINARY_WORKDAYS)),
            level=str(raw.get("level", "下级机关")),
        )


@dataclass(frozen=True)
class HearingPolicy:
    """听证 (Arts. 46–47): before completing one of `decisions` the applicant is told of the
    right to ask for a hearing within `request_workdays`; a hearing is held by `group` within
    `hearing_workdays`, the clock stopped."""

    decisions: tuple[str, ...]
    request_workdays: int = HEARING_REQUEST_WORKDAYS
    hearing_workdays: int = HEARING_WORKDAYS
    group: str | None = None  # None: the decision task's groups

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> HearingPolicy:
        return cls(
            decisions=tuple(str(d) for d in raw["decisions"]),
            request_workdays=int(raw.get("request_workdays", HEARING_REQUEST_WORKDAYS)),
            hearing_workdays=int(raw.get("hearing_workdays", HEARING_WORKDAYS)),
            group=raw.get("group"),
        )


@dataclass(frozen=True)
class RatingPolicy:
    """好差评 (bundle.json `rating`): who rectifies a bad rating, within how many working days."""

    rectification_group: str | None = None  # None: the escalation group, else `supervisors`
    rectification_workdays: int = DEFAULT_RECTIFICATION_WORKDAYS

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RatingPolicy:
        return cls(
            rectification_group=raw.get("rectification_group") or None,
            rectification_workdays=int(
                raw.get("rectification_workdays", DEFAULT_RECTIFICATION_WORKDAYS)
            ),
        )


@dataclass(frozen=True)
class Collection:
    """Where the applicant collects the licences (bundle.json `collection`): shown on the public
    progress page once they are issued."""

    place: str
    hours: str = ""
    phone: str = ""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Collection | None:
        if not isinstance(raw, Mapping) or not raw.get("place"):
            return None
        return cls(str(raw["place"]), str(raw.get("hours", "")), str(raw.get("phone", "")))


@dataclass(frozen=True)
class VisitPolicy:
    """最多跑一次 (bundle.json `visits`): how the dashboard tells an online application and a
    collection that needs no visit. A visit is counted per in-person step: the application at
    the window, each 补正 of a window application, collecting the certificates at the window."""

    channel_field: str = "application_channel"  # case data: how the application came
    online_values: tuple[str, ...] = ("online",)  # 网上申报
    delivery_field: str = "delivery_method"  # case data: how the certificates are delivered
    remote_delivery: tuple[str, ...] = ("post", "mail", "express", "electronic", "online")
    # case data: where certificates sent by post go (the progress page shows it); None: none
    address_field: str | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> VisitPolicy:
        default = cls()
        address = raw.get("address_field")
        return cls(
            channel_field=str(raw.get("channel_field", default.channel_field)),
            online_values=tuple(raw.get("online_values", default.online_values)),
            delivery_field=str(raw.get("delivery_field", default.delivery_field)),
            remote_delivery=tuple(raw.get("remote_delivery", default.remote_delivery)),
            address_field=str(address) if address else None,
        )

    def online(self, data: Mapping[str, Any]) -> bool:
        return data.get(self.channel_field) in self.online_values

    def collected_in_person(self, data: Mapping[str, Any]) -> bool:
        return data.get(self.delivery_field) not in self.remote_delivery


@dataclass(frozen=True)
class BundleMetadata:
    """bundle.json, typed. `raw` is the file as read: what a version stores and compares."""

    key: str | None = None
    name: str | None = None
    process: str | None = None  # the main process; None: the one no other process calls
    description: str = ""
    issuer: str | None = None  # 发证机关; None: the bundle's name
    items: tuple[Item, ...] = ()
    materials: tuple[Material, ...] = ()
    applicant: ApplicantFields = field(default_factory=ApplicantFields)
    intake: IntakePolicy = field(default_factory=IntakePolicy)
    time_policy: TimePolicy = field(default_factory=TimePolicy)
    rating: RatingPolicy = field(default_factory=RatingPolicy)
    renewal_reminders: tuple[int, ...] = DEFAULT_REMINDER_DAYS  # days before expiry (无感续证)
    collection: Collection | None = None  # 领证: where and when; None: not said
    visits: VisitPolicy = field(default_factory=VisitPolicy)  # 最多跑一次 (issue 21)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BundleMetadata:
        items = tuple(Item.from_dict(i) for i in raw.get("items", []))
        reminders = raw.get("renewal", {}).get("remind_days_before", DEFAULT_REMINDER_DAYS)
        return cls(
            key=raw.get("key"),
            name=raw.get("name"),
            process=raw.get("process"),
            description=raw.get("description", ""),
            issuer=raw.get("issuer") or None,
            items=items,
            materials=tuple(Material.from_dict(m) for m in raw.get("materials", [])),
            applicant=ApplicantFields.from_dict(raw.get("applicant", {})),
            intake=IntakePolicy.from_dict(raw.get("intake", {})),
            time_policy=TimePolicy.from_dict(raw.get("time_limits", {}), items),
            rating=RatingPolicy.from_dict(raw.get("rating", {})),
            renewal_reminders=tuple(int(days) for days in reminders),
            collection=Collection.from_dict(raw.get("collection")),
            visits=VisitPolicy.from_dict(raw.get("visits", {})),
            raw=raw,
        )

    @property
    def certificates(self) -> list[CertificateSpec]:
        """The certificates the items issue at 统一发证, in item order."""
        return [i.certificate for i in self.items if i.certificate is not None]

    @property
    def conditional_materials(self) -> bool:
        """Whether some material is asked of some cases only (`materials[].applies_if`/`item`)."""
        return any(m.conditional for m in self.materials)

    def material_condition(self, material: Material) -> str:
        """The condition of a material in words, for the guide: its `applies_when`, else the
        `applies_when` of the item it names ("" when it always applies)."""
        if material.applies_when or material.item is None:
            return material.applies_when
        item = next((i for i in self.items if i.code == material.item), None)
        if item is None:
            return ""
        return item.applies_when or (f"申请{item.name}的" if item.applies_if else "")

    @property
    def conditional_items(self) -> bool:
        """Whether some item applies only to some cases (`items[].applies_if`)."""
        return any(i.applies_if is not None for i in self.items)


def item_codes(text: str | None) -> tuple[str, ...]:
    """The item codes of a `certificate_items` property ("a, b"); () when it names none."""
    return tuple(code.strip() for code in (text or "").split(",") if code.strip())


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)
