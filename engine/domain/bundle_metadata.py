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
DEFAULT_RECTIFICATION_WORKDAYS = 10
DEFAULT_REMINDER_DAYS = (30, 7)


@dataclass(frozen=True)
class Item:
    """One 事项 of the bundle (bundle.json `items[]`) and the certificate it issues, if any."""

    code: str
    name: str
    department: str | None = None  # 承办部门
    statutory_workdays: int | None = None
    promised_workdays: int | None = None
    certificate: CertificateSpec | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Item:
        return cls(
            code=str(raw["code"]),
            name=str(raw.get("name", raw["code"])),
            department=raw.get("department"),
            statutory_workdays=_whole(raw.get("statutory_workdays")),
            promised_workdays=_whole(raw.get("promised_workdays")),
            certificate=CertificateSpec.from_item(raw),
        )


@dataclass(frozen=True)
class Material:
    """One entry of the 一次性告知 checklist (bundle.json `materials[]`)."""

    code: str
    name: str
    required: bool = True
    deferrable: bool = False  # may be supplied later under 容缺受理
    note: str = ""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Material:
        return cls(
            code=raw["code"],
            name=raw["name"],
            required=raw.get("required", True),
            deferrable=raw.get("deferrable", False),
            note=raw.get("note", ""),
        )

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
    # whether bundle.json names the element: only then is it the window (case_access.py)
    element_given: bool = False

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IntakePolicy:
        given = {k: raw[k] for k in _INTAKE_KEYS if k in raw}
        return cls(**given, element_given="element" in given)

    def is_correction(self, element: str | None, form: Mapping[str, Any]) -> bool:
        """Whether completing `element` with `form` decided 补正."""
        return element == self.element and form.get(self.decision_field) == self.correct_value


_INTAKE_KEYS = ("element", "decision_field", "missing_field", "correct_value", "correction_element")


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
            starts_at=limits.get("starts_at"),
            warning=int(limits.get("warning_workdays", DEFAULT_WARNING_WORKDAYS)),
            escalation_group=limits.get("escalation_group"),
            suspension_stops_clock=tuple(limits.get("suspension_stops_clock", ART45_KINDS)),
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
            raw=raw,
        )

    @property
    def certificates(self) -> list[CertificateSpec]:
        """The certificates the items issue at 统一发证, in item order."""
        return [i.certificate for i in self.items if i.certificate is not None]


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)
