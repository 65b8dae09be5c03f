from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person using the app. Our own model so fields can be added without pain later."""

    def display_name(self) -> str:
        return self.get_full_name() or self.username
