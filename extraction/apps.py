from django.apps import AppConfig


class ExtractionConfig(AppConfig):
    name = "extraction"

    def ready(self) -> None:
        from extraction.services.uploads import register_job_kind

        register_job_kind()
