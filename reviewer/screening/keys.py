"""Keyboard keys for screening: defaults, and each person's own choice."""

from __future__ import annotations

from collections.abc import Mapping

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
        keys[action] = key
    seen: dict[str, str] = {}
    for action, key in keys.items():
        if key in seen:
            problems.append(
                f"“{key}” is used twice: {ACTIONS[seen[key]][1]} and {ACTIONS[action][1]}."
            )
        seen[key] = action
    return problems
