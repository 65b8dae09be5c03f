"""Readable names for the languages records give (`Record.language`).

Exports say a record's language in three ways: a name ("English" in RIS and Embase), an
ISO 639-2 code ("eng", MEDLINE's `LA` tag, in its bibliographic form "fre", "ger", "chi"
or its terminology form "fra", "deu", "zho") or an ISO 639-1 code ("en"), sometimes
several in one value ("eng; fre"). Pages show each as its English name, so one review's
"eng" and "English" read alike.

The names are Django's (`django.conf.locale.LANG_INFO`, through `get_language_info`); no
library in the requirements maps ISO 639-2 codes, so `ISO_639_2` maps them to the ISO
639-1 codes Django knows (for the languages Django names, which cover nearly every
language MEDLINE indexes), and `NAMES` adds the few Django has no plain entry for.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf.locale import LANG_INFO
from django.utils.translation import get_language_info

#: ISO 639-2 code (bibliographic and terminology forms) -> the ISO 639-1 code
#: `LANG_INFO` knows (or LANG_INFO's own code where it has no two-letter one).
ISO_639_2 = {
    "afr": "af", "alb": "sq", "sqi": "sq", "ara": "ar", "arm": "hy", "hye": "hy",
    "aze": "az", "baq": "eu", "eus": "eu", "bel": "be", "ben": "bn", "bos": "bs",
    "bre": "br", "bul": "bg", "bur": "my", "mya": "my", "cat": "ca", "chi": "zh",
    "zho": "zh", "hrv": "hr", "cze": "cs", "ces": "cs", "dan": "da", "dut": "nl",
    "nld": "nl", "eng": "en", "epo": "eo", "est": "et", "fin": "fi", "fre": "fr",
    "fra": "fr", "fry": "fy", "geo": "ka", "kat": "ka", "ger": "de", "deu": "de",
    "gla": "gd", "gle": "ga", "glg": "gl", "gre": "el", "ell": "el", "heb": "he",
    "hin": "hi", "hun": "hu", "ibo": "ig", "ice": "is", "isl": "is", "ido": "io",
    "ina": "ia", "ind": "id", "ita": "it", "jpn": "ja", "kan": "kn", "kaz": "kk",
    "khm": "km", "kir": "ky", "kor": "ko", "lav": "lv", "lit": "lt", "ltz": "lb",
    "mac": "mk", "mkd": "mk", "mal": "ml", "mar": "mr", "may": "ms", "msa": "ms",
    "mon": "mn", "nep": "ne", "nno": "nn", "nob": "nb", "nor": "no", "oss": "os",
    "pan": "pa", "per": "fa", "fas": "fa", "pol": "pl", "por": "pt", "rum": "ro",
    "ron": "ro", "rus": "ru", "slo": "sk", "slk": "sk", "slv": "sl", "spa": "es",
    "srp": "sr", "swa": "sw", "swe": "sv", "tam": "ta", "tat": "tt", "tel": "te",
    "tgk": "tg", "tha": "th", "tuk": "tk", "tur": "tr", "uig": "ug", "ukr": "uk",
    "urd": "ur", "uzb": "uz", "vie": "vi", "wel": "cy", "cym": "cy",
}  # fmt: skip

#: Names `LANG_INFO` has no plain entry for (it knows Chinese only as zh-hans and
#: zh-hant), and MEDLINE's codes for no single language.
NAMES = {"zh": "Chinese", "lat": "Latin", "mul": "Several languages", "und": "Undetermined"}

_BY_NAME: dict[str, str] = {
    str(info["name"]).casefold(): str(info["name"]) for info in LANG_INFO.values() if "name" in info
}


@lru_cache(maxsize=512)
def language_name(value: str) -> str:
    """`value` with each language in it given its English name ("eng; fre" -> "English,
    French"); a part that names no known language is kept as it was written."""
    parts = [part.strip() for part in re.split(r"[;,/]", value) if part.strip()]
    return ", ".join(dict.fromkeys(_name(part) for part in parts))


def _name(part: str) -> str:
    key = part.casefold()
    key = ISO_639_2.get(key, key)
    if key in NAMES:
        return NAMES[key]
    if key in _BY_NAME:
        return _BY_NAME[key]
    try:
        return str(get_language_info(key)["name"])
    except KeyError:
        return part


_ENGLISH = {"en", "eng", "english"}


def is_english(value: str) -> bool:
    """True if any language in `value` is English, in whatever form an export gives it:
    the name, an ISO 639-2 or 639-1 code, or a regional variant ("en-US", "en_GB",
    "English (US)", "British English"); "English; French" counts as English."""
    for part in re.split(r"[;,/]", value):
        key = part.strip().casefold()
        if not key:
            continue
        primary = re.split(r"[-_ (]", key, maxsplit=1)[0]  # "en-us", "english (us)"
        if primary in _ENGLISH or _name(key).casefold().endswith("english"):
            return True
    return False
