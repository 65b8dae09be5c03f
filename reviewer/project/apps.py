from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project corner as an app: no models, only its management command (`demo`)."""

    name = "reviewer.project"
    label = "project"
    verbose_name = "Project (what spans the apps)"
