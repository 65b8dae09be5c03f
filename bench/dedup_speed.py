"""De-duplication speed, memory and recall on synthetic records (run by hand, not in CI).

    python bench/dedup_speed.py --records 10000 50000 100000 [--seed 7]

Builds N synthetic records from real exports (../shared/data/exports: RIS and MEDLINE
files read with the app's parsers) and the labelled de-duplication CSVs: titles keep the
shape of real titles but about half their words are swapped for other real title words,
authors/journals/years/volumes/pages are drawn from the real records. About 20% of the
records are injected duplicates of an earlier record, each with a few realistic variations:
DOI case or prefix ("https://doi.org/", "doi:"), DOI or PMID missing, trailing period,
lower-cased title, abbreviated journal, "1234-40" page ranges, author initials
("Smith JA", "J. A. Smith"), accents stripped, a one-letter typo.

Each size runs in a fresh process so the peak memory (max RSS) is its own. Prints seconds
(wall clock, and the process's CPU time, which does not count waiting for a core on a shared
machine) for the engine, peak memory, candidate pairs compared, and the recall of the certain band
on the injected duplicate pairs. Targets: 50,000 records in under 60 s, under 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviewer.dedup import DedupInput, deduplicate  # noqa: E402
from reviewer.dedup.benchmark import load_labelled_set  # noqa: E402

SHARED = Path(os.environ.get("SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
EXPORTS = [
    SHARED / "exports" / "asreview_demo_data" / "_baseline.ris",
    SHARED / "exports" / "nbib_py" / "pubmed-balloongui-set.nbib",
]
LABELLED = ["cytology_screening", "haematology"]
DUPLICATE_RATE = 0.2
GIVEN_NAMES = (
    "John",
    "Maria",
    "Anna",
    "Peter",
    "Wei",
    "Jose",
    "Helene",
    "Jorg",
    "Zoe",
    "Ines",
    "Bjorn",
    "Sofia",
)
ACCENTED = {"e": "é", "o": "ö", "a": "á", "u": "ü", "i": "í", "n": "ñ"}
STOP = {"of", "the", "and", "for", "in", "on", "&"}


@dataclass(frozen=True, slots=True)
class Pools:
    """Real values the synthetic records are drawn from."""

    titles: list[str]
    words: list[str]
    surnames: list[str]
    journals: list[str]


def check_shared_data() -> None:
    """Exit with a clear message when none of the shared data is there; name what is not."""
    missing = [
        SHARED / "dedup" / name for name in LABELLED if not (SHARED / "dedup" / name).is_dir()
    ]
    missing += [path for path in EXPORTS if not path.is_file()]
    if len(missing) == len(LABELLED) + len(EXPORTS):
        sys.exit(
            "dedup_speed.py builds its records from the shared data, and none of it was found:\n  "
            + "\n  ".join(str(path) for path in missing)
            + f"\nPut the shared data beside this checkout ({ROOT.parent / 'shared' / 'data'}) "
            "or point SHARED_DATA_DIR at it."
        )
    if missing:
        print("(not found, not used: " + ", ".join(map(str, missing)) + ")", file=sys.stderr)


def load_pools() -> Pools:
    titles: list[str] = []
    surnames: list[str] = []
    journals: list[str] = []
    for name in LABELLED:
        folder = SHARED / "dedup" / name
        if folder.is_dir():
            for record in load_labelled_set(folder).records:
                titles.append(record.title)
                journals.append(record.journal)
                surnames.extend(author.split(",")[0].strip() for author in record.authors)
    from reviewer.imports import read_file

    for path in EXPORTS:
        if path.is_file():
            for parsed in read_file(path, filename=path.name).records():
                titles.append(parsed.title)
                journals.append(parsed.journal)
                surnames.extend(author.split(",")[0].strip() for author in parsed.authors)
    titles = sorted({title for title in titles if len(title.split()) >= 4})
    words = [word for title in titles for word in title.split()]
    surnames = sorted({name for name in surnames if name.isalpha() and len(name) > 1})
    journals = sorted({journal for journal in journals if journal})
    return Pools(titles, words, surnames, journals)


def _author(rng: random.Random, pools: Pools) -> str:
    surname = rng.choice(pools.surnames)
    given = rng.choice(GIVEN_NAMES)
    second = rng.choice("ABCDEFGHJKLMNPRSTW")
    if rng.random() < 0.3 and surname[-1] in ACCENTED:
        surname = surname[:-1] + ACCENTED[surname[-1]]
    return (
        f"{surname}, {given} {second}." if rng.random() < 0.5 else f"{surname}, {given[0]} {second}"
    )


def _base_record(index: int, rng: random.Random, pools: Pools) -> DedupInput:
    words = rng.choice(pools.titles).split()
    title = " ".join(rng.choice(pools.words) if rng.random() < 0.5 else w for w in words)
    first = rng.randint(1, 3000)
    return DedupInput(
        id=index,
        title=title,
        authors=tuple(_author(rng, pools) for _ in range(rng.randint(1, 8))),
        year=rng.randint(1990, 2024),
        journal=rng.choice(pools.journals),
        volume=str(rng.randint(1, 400)),
        issue=str(rng.randint(1, 12)),
        pages=f"{first}-{first + rng.randint(2, 25)}",
        doi=f"10.{rng.randint(1000, 9999)}/syn.{index}.{rng.randint(0, 10**6)}"
        if rng.random() < 0.7
        else "",
        pmid=str(10_000_000 + index) if rng.random() < 0.4 else "",
        publication_type="Journal Article",
    )


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _abbreviate(journal: str) -> str:
    return " ".join(w[:4] if len(w) > 4 else w for w in journal.split() if w.lower() not in STOP)


def _initials_form(author: str, rng: random.Random) -> str:
    surname, _, given = author.partition(",")
    initials = "".join(part[0] for part in re.split(r"[\s.]+", given.strip()) if part)
    if rng.random() < 0.5:
        return f"{surname} {initials}"
    return " ".join(f"{letter}." for letter in initials) + f" {surname}"


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 10:
        return text
    position = rng.randrange(len(text))
    return text[:position] + rng.choice("aeioustnr") + text[position + 1 :]


def _vary(record: DedupInput, new_id: int, rng: random.Random) -> DedupInput:
    changes: dict[str, object] = {"id": new_id}
    doi = record.doi
    if doi:
        roll = rng.random()
        if roll < 0.2:
            doi = ""
        elif roll < 0.4:
            doi = "https://doi.org/" + doi.upper()
        elif roll < 0.55:
            doi = "doi:" + doi
    changes["doi"] = doi
    if rng.random() < 0.5:
        changes["pmid"] = ""
    title = record.title
    if rng.random() < 0.3:
        title += "."
    if rng.random() < 0.2:
        title = title.lower()
    if rng.random() < 0.15:
        title = _typo(title, rng)
    changes["title"] = title
    if rng.random() < 0.4:
        changes["journal"] = _abbreviate(record.journal)
    if rng.random() < 0.3 and "-" in record.pages:
        first, last = record.pages.split("-")
        changes["pages"] = f"{first}-{last[-2:]}" if len(last) > 2 else record.pages
    authors = record.authors
    if rng.random() < 0.4:
        authors = tuple(_initials_form(a, rng) for a in authors)
    if rng.random() < 0.3:
        authors = tuple(_strip_accents(a) for a in authors)
    changes["authors"] = authors
    if rng.random() < 0.1:
        changes["issue"] = ""
    return replace(record, **changes)  # type: ignore[arg-type]


def build_records(count: int, seed: int) -> tuple[list[DedupInput], set[tuple[int, int]]]:
    """``count`` records with about 20% injected duplicates, and the duplicate pairs."""
    rng = random.Random(seed)
    pools = load_pools()
    records: list[DedupInput] = []
    originals: list[int] = []
    pairs: set[tuple[int, int]] = set()
    for index in range(count):
        if originals and rng.random() < DUPLICATE_RATE:
            source = rng.choice(originals)
            records.append(_vary(records[source], index, rng))
            pairs.add((source, index))
        else:
            records.append(_base_record(index, rng, pools))
            originals.append(index)
    return records, pairs


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(count: int, seed: int) -> dict[str, float]:
    records, injected = build_records(count, seed)
    before = _peak_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = deduplicate(records)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    cluster_of: dict[object, int] = {}
    for number, cluster in enumerate(result.clusters):
        for member in cluster:
            cluster_of[member] = number
    found = sum(
        1 for a, b in injected if a in cluster_of and cluster_of.get(a) == cluster_of.get(b)
    )
    return {
        "records": count,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": _peak_mb(),
        "peak_before_mb": before,
        "compared": result.compared,
        "injected": len(injected),
        "recall": found / len(injected) if injected else 1.0,
        "certain": result.counts()["certain"],
        "possible": result.counts()["possible"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        print(json.dumps(run_one(args.records[0], args.seed)))
        return
    check_shared_data()
    header = (
        f"{'records':>8} {'seconds':>8} {'cpu s':>6} {'peak MB':>8} {'compared':>10} "
        f"{'pairs/rec':>9} {'injected':>9} {'recall':>7} {'certain':>8} {'possible':>8}"
    )
    print(header)
    for count in args.records:
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--single",
                "--records",
                str(count),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            sys.exit(f"{count} records: the run failed:\n{completed.stderr.strip()}")
        if completed.stderr.strip():
            print(completed.stderr.strip(), file=sys.stderr)
        row = json.loads(completed.stdout.strip().splitlines()[-1])
        print(
            f"{row['records']:>8} {row['seconds']:>8.1f} {row['cpu_seconds']:>6.1f} "
            f"{row['peak_mb']:>8.0f} "
            f"{row['compared']:>10} {row['compared'] / row['records']:>9.2f} "
            f"{row['injected']:>9} {row['recall']:>7.4f} {row['certain']:>8} {row['possible']:>8}"
        )


if __name__ == "__main__":
    main()
