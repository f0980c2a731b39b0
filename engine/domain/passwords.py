"""Which sign-in passwords are refused: the obvious ones an attacker tries first.

Refused: fewer than 8 characters (or more than 128); one character or a short unit repeated
(`aaaaaaaa`, `abababab`, `123123123`) or fewer than 4 different characters; runs of the
alphabet, the digits or a keyboard row, forwards or backwards, with at most 3 other characters
around them (`12345678`, `abcdefgh`, `qwertyui`, `a1234567`, `abc12345`, `87654321`); the user's
name in it; a short list of common passwords, Chinese favourites among them (`88888888`,
`woaini1314`, `5201314`...); and the demo password, which only `lianban demo-users` may set.
"""

from __future__ import annotations

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_DISTINCT = 4
# A run at least this long makes a password weak when little else is around it.
MIN_RUN = 5
MAX_AROUND_RUN = 3

# The demo users' shared password: set only by `lianban demo-users`, refused everywhere else.
DEMO_PASSWORD = "lianban-demo"

_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "!qaz@wsx#edc",
    "!@#$%^&*()",
)

COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "iloveyou",
        "woaini1314",
        "woaini520",
        "5201314520",
        "52013145201314",
        "1314520520",
        "aini1314",
        "admin123",
        "admin888",
        "admin@123",
        "administrator",
        "root1234",
        "changeme",
        "welcome1",
        "letmein1",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "superman",
        "trustno1",
        "dragon123",
        "monkey123",
        "computer",
        "internet",
        "zhang123",
        "wang1234",
        "li123456",
        "lianban123",
        "lianban2026",
        DEMO_PASSWORD,
    }
)


def problems(password: str, name: str = "") -> list[str]:
    """What is wrong with `password` for the user `name`, in plain Chinese; empty when fine."""
    if password == DEMO_PASSWORD:
        return ["这是演示密码, 只能由 lianban demo-users 为演示用户设置, 请另选一个"]
    if len(password) < MIN_LENGTH:
        return [f"密码至少 {MIN_LENGTH} 个字符"]
    if len(password) > MAX_LENGTH:
        return [f"密码最多 {MAX_LENGTH} 个字符"]
    lowered = password.lower()
    found = []
    if _repeated(lowered):
        found.append("密码不能只是重复的字符 (如 aaaaaaaa、abababab、123123123)")
    elif _mostly_a_run(lowered):
        found.append("密码不能是连续的字母、数字或键盘上相邻的键 (如 12345678、abcdefgh、qwertyui)")
    cleaned = name.strip().lower()
    if len(cleaned) >= 3 and (cleaned in lowered or cleaned[::-1] in lowered):
        found.append("密码不能包含用户名")
    if lowered in COMMON or lowered.rstrip("!.") in COMMON:
        found.append("这是常见密码, 很容易被猜中, 请另选一个")
    return found


def _repeated(text: str) -> bool:
    if len(set(text)) < MIN_DISTINCT:
        return True
    return any(text == (text[:size] * len(text))[: len(text)] for size in range(1, 4))


def _mostly_a_run(text: str) -> bool:
    """Whether a run of a sequence (`MIN_RUN` or more characters) leaves at most
    `MAX_AROUND_RUN` other characters."""
    longest = max(_longest_run(text, s) for s in _SEQUENCES + tuple(s[::-1] for s in _SEQUENCES))
    return longest >= MIN_RUN and len(text) - longest <= MAX_AROUND_RUN


def _longest_run(text: str, sequence: str) -> int:
    """The longest stretch of `text` that is also a stretch of `sequence`."""
    best = 0
    for start in range(len(text)):
        length = 0
        while start + length < len(text) and text[start : start + length + 1] in sequence:
            length += 1
        best = max(best, length)
    return best
