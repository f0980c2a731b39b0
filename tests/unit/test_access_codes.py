"""The receipt code (查询码): its shape, how it is typed back, and the keyed hashes stored."""

from __future__ import annotations

import hashlib
import math
import re

from engine.domain import access_codes as ac

SECRET = "test-secret"
SHAPE = re.compile(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


def test_a_new_code_is_twelve_unambiguous_characters_in_groups_with_60_random_bits() -> None:
    codes = {ac.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(SHAPE.fullmatch(c) for c in codes)
    assert not set("01IO") & set("".join(codes))
    assert len(ac.ALPHABET) == 32 and math.log2(len(ac.ALPHABET)) * ac.LENGTH == 60
    # every letter of the alphabet shows up: the choice is over all 32
    assert set("".join(codes).replace("-", "")) == set(ac.ALPHABET)


def test_a_code_is_accepted_as_people_type_it_back() -> None:
    code = "7KQM-X4TD-9HWN"
    stored = ac.keyed_hash(SECRET, 42, code)
    for typed in (
        "7KQMX4TD9HWN",
        "7kqm x4td 9hwn",
        " 7kqm-x4td-9hwn ",
        "７ＫＱＭ－Ｘ４ＴＤ－９ＨＷＮ",
    ):
        assert ac.matches(stored, SECRET, 42, typed), typed
    assert ac.well_formed(ac.normalise("7kqm x4td 9hwn"))
    assert not ac.well_formed(ac.normalise("7KQM-X4TD-9HW0"))  # 0 is not in the alphabet
    assert not ac.well_formed("7KQMX4TD9HW")
    assert ac.well_formed("12345678")  # a code printed before the 12-character ones


def test_the_stored_hash_is_keyed_bound_to_the_case_and_never_the_code() -> None:
    code = "7KQM-X4TD-9HWN"
    stored = ac.keyed_hash(SECRET, 42, code)
    assert stored.startswith("hmac:") and len(stored) <= 64
    assert "7KQM" not in stored
    assert not ac.matches(stored, SECRET, 43, code)  # another case
    assert not ac.matches(stored, "another-secret", 42, code)  # without the server secret
    assert not ac.matches(stored, SECRET, 42, "7KQM-X4TD-9HWM")
    assert not ac.matches(None, SECRET, 42, code)


def test_an_older_plain_hash_works_only_once_wrapped_with_the_secret() -> None:
    plain = hashlib.sha256(b"7:12345678").hexdigest()
    assert not ac.matches(plain, SECRET, 7, "12345678")  # an unkeyed hash is never accepted
    wrapped = ac.wrap_legacy(SECRET, plain)
    assert wrapped.startswith("hmac(sha256):") and len(wrapped) <= 64
    assert plain not in wrapped
    assert ac.matches(wrapped, SECRET, 7, "12345678")
    assert ac.matches(wrapped, SECRET, 7, " 1234 5678 ")
    assert not ac.matches(wrapped, SECRET, 7, "12345679")
    assert not ac.matches(wrapped, "another-secret", 7, "12345678")
