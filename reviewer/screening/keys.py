"""Keyboard keys for screening: defaults, each person's own choice, and the reason keys.

At title/abstract the digits 1–9 exclude with the review's first nine exclusion reasons,
one key each, so no key has to wait to learn whether a second one follows ("x" excludes
at once, without a reason). The digits are therefore not offered as one's own keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

#: action -> (default key, what the key does)
ACTIONS: dict[str, tuple[str, str]] = {
    "include": ("i", "Include"),
    "exclude": ("x", "Exclude"),
    "maybe": ("m", "Maybe (title/abstract)"),
    "undo": ("u", "Undo my decision"),
    "next": ("j", "Next record"),
    "previous": ("k", "Previous record"),
    "note": ("n", "Write a note"),
    "label": ("l", "Add a label"),
}
#: Keys the whole app already uses ("g" starts the go-to sequences).
RESERVED = frozenset({"g", "?", "/"})
#: The exclusion reasons' keys at title/abstract, in the reasons' order.
REASON_KEYS = "123456789"

T = TypeVar("T")


def keys_for(chosen: Mapping[str, str] | None) -> dict[str, str]:
    """Every action's key: the person's own where valid, else the default."""
    keys = {action: default for action, (default, _) in ACTIONS.items()}
    for action, key in (chosen or {}).items():
        if action in keys:
            keys[action] = key
    return keys


def validate_keys(chosen: Mapping[str, str]) -> list[str]:
    """Problems with a choice of keys, as sentences (empty: fine)."""
    problems = []
    keys = keys_for({})
    for action, key in chosen.items():
        if action not in ACTIONS:
            problems.append(f"Unknown action “{action}”.")
            continue
        if len(key) != 1 or not key.isprintable() or key.isspace():
            problems.append(f"{ACTIONS[action][1]}: use one visible character, not “{key}”.")
            continue
        if key.lower() in RESERVED:
            problems.append(f"{ACTIONS[action][1]}: “{key}” is taken by the app's own shortcuts.")
        elif key in REASON_KEYS:
            problems.append(
                f"{ACTIONS[action][1]}: “{key}” is taken: the digits 1–9 exclude with a reason "
                "at title/abstract."
            )
        keys[action] = key
    seen: dict[str, str] = {}
    for action, key in keys.items():
        if key in seen:
            problems.append(
                f"“{key}” is used twice: {ACTIONS[seen[key]][1]} and {ACTIONS[action][1]}."
            )
        seen[key] = action
    return problems


def reason_keys(keys: Mapping[str, str], reasons: Sequence[T]) -> list[tuple[T, str]]:
    """Each reason with its key: the digits 1–9 in order, "" after the ninth. A digit that
    is one of the person's own keys (chosen before digits were the reasons' keys) stays
    theirs, and its reason goes without a key rather than one key doing two things."""
    taken = set(keys.values())
    paired = []
    for n, reason in enumerate(reasons):
        key = REASON_KEYS[n] if n < len(REASON_KEYS) else ""
        paired.append((reason, "" if key in taken else key))
    return paired
