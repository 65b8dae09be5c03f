"""The permission cases every view module runs, written once.

Each view test module declares its URLs (`ENDPOINTS`, `WRONG_METHODS`) and how to make
the child objects they point at, and subclasses `PermissionCases`:

    class TestPermissions(PermissionCases):
        ENDPOINTS = ENDPOINTS
        WRONG_METHODS = WRONG_METHODS
        children = staticmethod(children)

`pytest_generate_tests` in tests/conftest.py expands each case over the subclass's
table. A case with nothing to check in a module is set to `None` there, with a comment
saying why, so no case is silently empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pytest_django.asserts import assertRedirects

from tests.factories import Endpoint, allowed, forbidden, make_review


def cases(argnames: str | tuple[str, ...], build: Callable[[type], list[Any]]) -> Callable:
    """Mark a test to be parametrised with `build(test_class)` under `argnames`."""

    def mark(test: Callable) -> Callable:
        test.permission_cases = lambda cls: (argnames, build(cls))  # type: ignore[attr-defined]
        return test

    return mark


class PermissionCases:
    ENDPOINTS: ClassVar[list[Endpoint]]
    WRONG_METHODS: ClassVar[list[Endpoint]]

    @staticmethod
    def children(review: Any) -> Any:
        raise NotImplementedError

    @cases("endpoint", lambda cls: cls.ENDPOINTS)
    def test_anonymous_is_sent_to_login(self, client, team, endpoint):
        targets = self.children(team.review)

        response = endpoint.send(client, team.review, targets)

        url = endpoint.url(team.review, targets)
        assertRedirects(response, f"/accounts/login/?next={url}", fetch_redirect_response=False)

    @cases("endpoint", lambda cls: cls.ENDPOINTS)
    def test_outsider_gets_404(self, client, team, endpoint):
        client.force_login(team.outsider)

        response = endpoint.send(client, team.review, self.children(team.review))

        assert response.status_code == 404

    @cases(("endpoint", "role"), lambda cls: forbidden(cls.ENDPOINTS))
    def test_member_with_too_low_a_role_gets_403(self, client, team, endpoint, role):
        client.force_login(team.user(role))

        response = endpoint.send(client, team.review, self.children(team.review))

        assert response.status_code == 403

    @cases(("endpoint", "role"), lambda cls: allowed(cls.ENDPOINTS))
    def test_member_with_the_role_gets_through(self, client, team, endpoint, role):
        client.force_login(team.user(role))

        response = endpoint.send(client, team.review, self.children(team.review))

        assert response.status_code == endpoint.status

    @cases("endpoint", lambda cls: cls.WRONG_METHODS)
    def test_wrong_method_gets_405(self, client, team, endpoint):
        client.force_login(team.owner)

        response = endpoint.send(client, team.review, self.children(team.review))

        assert response.status_code == 405

    @cases("endpoint", lambda cls: [e for e in cls.ENDPOINTS if e.points_at_a_child])
    def test_child_of_another_review_gets_404_even_for_an_owner(self, client, team, endpoint):
        other = make_review(title="Adult IMT")
        client.force_login(team.owner)

        response = endpoint.send(client, team.review, self.children(other))

        assert response.status_code == 404
