"""Forms for joining a review, the first account, and undoing mistakes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordMixin, UsernameField

from reviewer.models import Role, User


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)


class NewAccountForm(SetPasswordMixin, forms.Form):
    """A name, a username and a password (twice), checked by the site's password rules."""

    name = forms.CharField(
        label="Your name",
        max_length=150,
        help_text="As the team sees it beside your decisions, e.g. Alice Chen.",
    )
    username = UsernameField(
        max_length=150,
        help_text="What you log in with: letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = email

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f"The username “{username}” is taken; choose another.")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.validate_passwords()
        candidate = User(
            username=cleaned.get("username", ""),
            email=self.invited_email or cleaned.get("email", ""),
            first_name=cleaned.get("name", ""),
        )
        self.validate_password_for_user(candidate)
        return cleaned


class FirstAccountForm(NewAccountForm):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="For password resets; it is not shown to anyone else.",
    )
    field_order = ["name", "username", "email", "password1", "password2"]


class SourceHideForm(forms.Form):
    reason = forms.CharField(
        label="Why hide it",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the search and shown in the list of hidden searches.",
    )


class ReviewDeleteForm(forms.Form):
    title = forms.CharField(label="Type the review’s title to confirm", max_length=300)
    has_archive = forms.BooleanField(
        label="I have downloaded this review’s archive and kept it somewhere safe",
        required=False,
    )
