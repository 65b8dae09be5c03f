"""Text contrast of the stylesheets, in the light and the dark theme (WCAG 2.1 AA, 4.5:1).

Every rule in static/css/ that sets both a text colour and a background is checked, with
the colour tokens (`var(--...)`) of app.css's `:root` resolved for each theme; a rule
inside `@media (prefers-color-scheme: dark)` overrides the same selector's declarations
in the dark theme. Badges and chips are small text, so 4.5:1 applies to all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parent.parent / "static" / "css"
AA = 4.5
DARK = "(prefers-color-scheme: dark)"


@dataclass(frozen=True)
class Rule:
    selector: str
    declarations: dict[str, str]
    media: str  # "" at the top level


def _blocks(text: str) -> list[tuple[str, str]]:
    """(prelude, body) of each top-level block; nested bodies are returned whole."""
    blocks, depth, start, prelude_start = [], 0, 0, 0
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks.append((text[prelude_start:start].strip(), text[start + 1 : i]))
                prelude_start = i + 1
    return blocks


def _declarations(body: str) -> dict[str, str]:
    found = {}
    for part in body.split(";"):
        name, sep, value = part.partition(":")
        if sep:
            found[name.strip().lower()] = value.strip()
    return found


def rules(text: str) -> list[Rule]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    found = []
    for prelude, body in _blocks(text):
        if prelude.startswith("@media"):
            media = prelude[len("@media") :].strip()
            found += [Rule(sel, _declarations(b), media) for sel, b in _blocks(body)]
        elif not prelude.startswith("@"):
            found.append(Rule(prelude, _declarations(body), ""))
    return found


def tokens(dark: bool) -> dict[str, str]:
    values: dict[str, str] = {}
    for rule in rules((CSS / "app.css").read_text()):
        if rule.selector == ":root" and rule.media in ("", DARK if dark else ""):
            values.update({k: v for k, v in rule.declarations.items() if k.startswith("--")})
    return values


def _colour(value: str, theme: dict[str, str]) -> str | None:
    """The hex colour a declaration ends up as, or None when it is not one plain colour."""
    for _ in range(5):
        var = re.fullmatch(r"var\((--[\w-]+)\)", value.strip())
        if var is None:
            break
        value = theme.get(var.group(1), "")
    value = value.strip().lower()
    if value in ("#fff", "white"):
        return "#ffffff"
    if value in ("#000", "black"):
        return "#000000"
    return value if re.fullmatch(r"#[0-9a-f]{6}", value) else None


def _luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def pairs(dark: bool) -> list[tuple[str, str, str, str]]:
    """(file, selector, text colour, background) of every rule setting both, in a theme."""
    theme = tokens(dark)
    found = []
    for path in sorted(CSS.glob("*.css")):
        all_rules = rules(path.read_text())
        overrides: dict[str, dict[str, str]] = {}
        for rule in all_rules:
            if dark and rule.media == DARK:
                for selector in _selectors(rule.selector):
                    overrides.setdefault(selector, {}).update(rule.declarations)
        for rule in all_rules:
            if rule.media not in ("", DARK if dark else ""):
                continue
            for selector in _selectors(rule.selector):
                declared = dict(rule.declarations)
                if rule.media == "" and dark:
                    declared.update(overrides.get(selector, {}))
                text = declared.get("color")
                background = declared.get("background-color") or declared.get("background")
                if text is None or background is None:
                    continue
                fg, bg = _colour(text, theme), _colour(background, theme)
                if fg and bg:
                    found.append((path.name, selector, fg, bg))
    return found


def _selectors(group: str) -> list[str]:
    return [" ".join(part.split()) for part in group.split(",") if part.strip()]


def test_the_parser_reads_the_tokens_of_both_themes():
    assert tokens(dark=False)["--text"] == "#1d2125"
    assert tokens(dark=True)["--text"] == "#e4e7eb"
    assert len(pairs(dark=False)) > 20  # it does find the coloured rules


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_text_on_its_own_background_meets_wcag_aa(dark):
    failing = [
        f"{name}: {selector} {fg} on {bg} = {ratio(fg, bg):.2f}:1"
        for name, selector, fg, bg in pairs(dark)
        if ratio(fg, bg) < AA
    ]
    assert failing == []


def test_the_risk_of_bias_chips_and_the_final_status_read_in_both_themes():
    # walk: the "low risk" chip was white on #02c100 (2.4:1), and the "Final" status white
    # on the dark theme's green (2.9:1)
    for dark in (False, True):
        checked = {sel: (fg, bg) for _, sel, fg, bg in pairs(dark)}
        for selector in (".rob-chip--low", ".rob-chip--high", ".xstatus--final"):
            fg, bg = checked[selector]
            assert ratio(fg, bg) >= AA, (dark, selector)
