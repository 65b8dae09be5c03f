"""The name of every file the app hands out: `<review>-<what>-<date>.<ext>`.

One helper for every download (the exports and their ZIP, the PRISMA files, the extraction
sheets and their problems, the analysis tables and charts), so each file opens by
double-click, sorts by review and day, and no two downloads of a day share a name: the
extension is always last, the review's slug first, the day (ISO, the server's local date
unless the file is the result of a given day) just before the extension.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from reviewer.models import Review


def download_name(review: Review, what: str, ext: str, *, day: date | None = None) -> str:
    """ "pediatric-imt-flow-diagram-300dpi-2026-12-03.png": `what` is made a slug (lower case,
    words joined by hyphens, underscores too), `ext` is given without its dot."""
    day = day or timezone.localdate()
    words = slugify(what).replace("_", "-")
    return f"{review.slug}-{words}-{day.isoformat()}.{ext.lstrip('.').lower()}"


def attachment(name: str) -> dict[str, str]:
    """The response header that makes a browser save the file as `name` (a `download_name`)."""
    header = content_disposition_header(as_attachment=True, filename=name)
    assert header is not None  # always given a name
    return {"Content-Disposition": header}


def attachment_headers(
    review: Review, what: str, ext: str, *, day: date | None = None
) -> dict[str, str]:
    """The response header that saves the file under `download_name(review, what, ext)`."""
    return attachment(download_name(review, what, ext, day=day))
