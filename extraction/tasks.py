"""Celery tasks of the extraction app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from extraction.services.uploads import pending_import_read, pending_imports_delete_abandoned


@shared_task(name="extraction.read_pending_import")  # type: ignore[untyped-decorator]
def read_pending_import(*, pending_id: int) -> None:
    pending_import_read(pending_id=pending_id)


@shared_task(name="extraction.delete_abandoned_imports")  # type: ignore[untyped-decorator]
def delete_abandoned_imports() -> int:
    """Delete pending extraction imports nobody finished (run hourly by Celery beat)."""
    return pending_imports_delete_abandoned()
