from django.apps import AppConfig


class ReviewerConfig(AppConfig):
    name = "reviewer"
    verbose_name = "Systematic reviews"

    def ready(self) -> None:
        from reviewer import checks  # noqa: F401  (registers the deployment checks)
        from reviewer.services import after_response, jobs

        after_response.connect()
        jobs.register_reviewer_kinds()
