"""The PRISMA2020 data CSV: the counts in the template the PRISMA2020 R package and its Shiny
app read, so a diagram can be re-drawn there (`PRISMA_data(read.csv(file))`).

The layout is copied from the package's own template, prisma-flowdiagram/PRISMA2020
`inst/extdata/PRISMA.csv` (commit 696d35e, the version with database_specific_results and
register_specific_results): the same rows in the same order, with the same `node`, `box`,
`description`, `boxtext`, `tooltips` and `url` cells ("NA" where the template has NA, an
empty cell where it has one); only `n` is ours.

`n` holds a number, or for the per-database lines and the exclusion reasons a list the
package parses (R/utils.R, PRISMA_parse_reasons_) as "Name, n; Name, n": it splits the
entries at ";", takes a name up to its first comma and the number after it. A comma or a
semicolon inside a name would therefore cut it, so in those lists each becomes " / "
("Wrong publication type (review / editorial / conference abstract)");
quotes, apostrophes and non-Latin letters are kept as they are, the csv module quoting
what needs quoting. Numbers are written without thousands separators. An update's previous
studies and reports are 0 when the review is not an update (the package's default), and an
empty list is "0" for exclusion reasons (the box then reads n = 0) and an empty cell for
per-database lines (the package then shows the box's total only).

**A provisional review** (`reviewer.prisma.provisional`) gets one more row, after the
template's: `data` "provisional", the statement in `description` (where a person opening the
file in a spreadsheet reads what each row is), "NA" in `node`, `box`, `boxtext`, `tooltips`
and `url`, and `n` empty. The package and the Shiny app ignore it, as read in their sources
(prisma-flowdiagram/PRISMA2020, R/PRISMA_data.R and inst/shiny-examples/PRISMA_flowdiagram/
app.R): the app reads an upload with `read.csv` and hands it to `PRISMA_data`, which finds
each number by `grep(<name>, data[, 1])` and each title box by `grep(<name>, data[, 3])`
(`PATTERNS` below) — "provisional" holds none of those names, and an "NA" box matches none —
collects tooltips only from rows whose tooltip is not NA, and links only the boxes of its
drawing; the app's own fields look rows up by exact `data` name. The template's rows keep
their places, so nothing that reads them by position moves either.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from reviewer.prisma.types import PrismaCounts

HEADER = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")

_REASONS_DESCRIPTION = (
    "Reports excluded ({}): [separate reasons and numbers using ; "
    "e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]"
)

#: The template's rows without `n`: (data, node, box, description, boxtext, tooltips, url).
TEMPLATE_ROWS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review",
     "Studies included in previous version of review", "previous_studies.html"),
    ("previous_reports", "NA", "box1",
     "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA",
     "previous_reports.html"),
    ("NA", "node6", "newstud",
     "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers",
     "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases and Registers", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases",
     "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA",
     "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers",
     "Specific Registers", "NA", "database_results.html"),
    ("NA", "node16", "othstud",
     "Grey title box; Identification of new studies via other methods",
     "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites, Organisations and Citation Searching",
     "website_results.html"),
    ("organisation_results", "", "box11", "Records identified from: Organisations",
     "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching",
     "Citation searching", "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records",
     "Duplicate records", "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons",
     "Records removed for other reasons", "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)",
     "Records screened", "Records screened (databases and registers)",
     "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)",
     "Records excluded", "Records excluded (databases and registers)",
     "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6",
     "Reports sought for retrieval (databases and registers)", "Reports sought for retrieval",
     "Reports sought for retrieval (databases and registers)", "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7",
     "Reports not retrieved (databases and registers)", "Reports not retrieved",
     "Reports not retrieved (databases and registers)", "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval", "Reports sought for retrieval (other)",
     "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)",
     "Reports not retrieved", "Reports not retrieved (other)",
     "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8",
     "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility",
     "Reports assessed for eligibility (databases and registers)", "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9", _REASONS_DESCRIPTION.format("databases and registers"),
     "Reports excluded", "Reports excluded (databases and registers)",
     "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)",
     "other_assessed.html"),
    ("other_excluded", "node21", "box15", _REASONS_DESCRIPTION.format("other"),
     "Reports excluded", "Reports excluded (other)", "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review",
     "New studies included in review", "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies",
     "Reports of new included studies", "NA", "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review",
     "Total studies included in review", "Total studies included in review",
     "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies",
     "Reports of total included studies", "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening",
     "Blue screening box", "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box",
     "included.html"),
)  # fmt: skip


def list_name(name: str) -> str:
    """A name as it can stand in a "Name, n; Name, n" list the package parses."""
    name = re.sub(r"\s*[,;]\s*", " / ", name.strip())
    return re.sub(r"\s+", " ", name)


def name_list(lines: tuple[tuple[str, int], ...], empty: str) -> str:
    """ "PubMed, 1200; Embase, 1198" (`empty` when there are no lines)."""
    if not lines:
        return empty
    return "; ".join(f"{list_name(name)}, {n}" for name, n in lines)


def values(counts: PrismaCounts) -> dict[str, str]:
    """The `n` cell of each row with data, by its `data` name."""
    c = counts
    numbers = {
        "previous_studies": c.previous_studies or 0,
        "previous_reports": c.previous_reports or 0,
        "database_results": c.database_results,
        "register_results": c.register_results,
        "website_results": c.website_results,
        "organisation_results": c.organisation_results,
        "citations_results": c.citations_results,
        "duplicates": c.duplicates,
        "excluded_automatic": c.excluded_automatic,
        "excluded_other": c.excluded_other,
        "records_screened": c.records_screened,
        "records_excluded": c.records_excluded,
        "dbr_sought_reports": c.dbr_sought_reports,
        "dbr_notretrieved_reports": c.dbr_notretrieved_reports,
        "other_sought_reports": c.other_sought_reports,
        "other_notretrieved_reports": c.other_notretrieved_reports,
        "dbr_assessed": c.dbr_assessed,
        "other_assessed": c.other_assessed,
        "new_studies": c.new_studies,
        "new_reports": c.new_reports,
        "total_studies": c.total_studies,
        "total_reports": c.total_reports,
    }
    cells = {name: str(n) for name, n in numbers.items()}
    cells["database_specific_results"] = name_list(c.database_specific_results, "")
    cells["register_specific_results"] = name_list(c.register_specific_results, "")
    cells["dbr_excluded"] = name_list(c.dbr_excluded, "0")
    cells["other_excluded"] = name_list(c.other_excluded, "0")
    return cells


#: What PRISMA2020's `PRISMA_data` greps for: in the `data` column, and in the `box` column.
#: A row matching none of them is not read (see the module docstring).
PATTERNS = (
    "previous_studies", "previous_reports", "register_results", "database_results",
    "database_specific_results", "register_specific_results", "website_results",
    "organisation_results", "citations_results", "duplicates", "excluded_automatic",
    "excluded_other", "records_screened", "records_excluded", "dbr_sought_reports",
    "dbr_notretrieved_reports", "other_sought_reports", "other_notretrieved_reports",
    "dbr_assessed", "dbr_excluded", "other_assessed", "other_excluded", "new_studies",
    "new_reports", "total_studies$", "total_reports$", "total_studies_ma", "total_reports_ma",
    "identification", "screening", "included",
)  # fmt: skip
BOX_PATTERNS = ("prevstud", "newstud", "othstud")
PROVISIONAL_DATA = "provisional"


def template_csv(counts: PrismaCounts, *, provisional: Sequence[str] = ()) -> str:
    """The counts as the PRISMA2020 template CSV (text, "\\n" line ends as the template);
    with `provisional` (the lines of `Waiting.lines()`), the note row saying why the numbers
    are not final yet."""
    cells = values(counts)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in TEMPLATE_ROWS:
        # title and side-label rows carry no number: the template has 0 there
        writer.writerow((*row, cells.get(row[0], "0")))
    if provisional:
        statement = " ".join(provisional)
        writer.writerow((PROVISIONAL_DATA, "NA", "NA", statement, "NA", "NA", "NA", ""))
    return out.getvalue()
