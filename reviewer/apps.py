from django.apps import AppConfig


class ReviewerConfig(AppConfig):
    name = "reviewer"
    verbose_name = "Systematic reviews"

    def ready(self) -> None:
        from reviewer.services import after_response, jobs

        after_response.connect()
        jobs.register_reviewer_kinds()
