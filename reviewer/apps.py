from django.apps import AppConfig


class ReviewerConfig(AppConfig):
    name = "reviewer"
    verbose_name = "Systematic reviews"

    def ready(self) -> None:
        from reviewer.services import after_response

        after_response.connect()
