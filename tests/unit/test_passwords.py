"""Which passwords are refused, and what the user is told."""

from __future__ import annotations

import pytest

from engine.domain.passwords import DEMO_PASSWORD, problems

OBVIOUS = [
    "aaaaaaaa",
    "11111111",
    "88888888",
    "abababab",
    "123123123",
    "aabbaabb",
    "12345678",
    "123456789",
    "87654321",
    "abcdefgh",
    "qwertyui",
    "asdfghjkl",
    "1qaz2wsx",
    "a1234567",
    "abc12345",
    "aa123456",
    "qwe123456",
    "password",
    "Password1",
    "passw0rd",
    "p@ssw0rd",
    "woaini1314",
    "iloveyou",
    "admin123",
]


@pytest.mark.parametrize("password", OBVIOUS)
def test_the_obvious_passwords_are_refused(password: str) -> None:
    assert problems(password, "front_desk"), password


@pytest.mark.parametrize(
    "password",
    [
        "correct horse",
        "long enough",
        "browser-test-pw",
        "窗口受理2026春",
        "Tq7#mZ9!pL",
        "upload pages pw",
    ],
)
def test_reasonable_passwords_pass(password: str) -> None:
    assert problems(password, "front_desk") == []


def test_each_refusal_says_why_in_chinese() -> None:
    assert problems("short", "x") == ["密码至少 8 个字符"]
    assert problems("x" * 129, "x") == ["密码最多 128 个字符"]
    assert "重复" in problems("zzzzzzzz", "x")[0]
    assert "连续" in problems("12345678", "x")[0]
    assert problems("front_desk-2026", "front_desk") == ["密码不能包含用户名"]
    assert problems("KSED_TNORF!2026", "front_desk") == ["密码不能包含用户名"]  # reversed
    assert problems("woaini1314", "x") == ["这是常见密码, 很容易被猜中, 请另选一个"]


def test_the_demo_password_is_only_for_the_demo() -> None:
    assert DEMO_PASSWORD == "lianban-demo"
    [message] = problems(DEMO_PASSWORD, "front_desk")
    assert "demo-users" in message and "演示" in message
