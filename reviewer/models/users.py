from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person using the app. Our own model so fields can be added without pain later."""

    screening_keys = models.JSONField(
        default=dict,
        blank=True,
        help_text="The person's own keys for screening actions (action -> key); see "
        "reviewer.screening.keys for the defaults.",
    )

    def display_name(self) -> str:
        return self.get_full_name() or self.username
