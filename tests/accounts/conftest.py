"""The separated administrators (三权分立) next to the shared people of tests/conftest.py."""

import pytest

from accounts import roles
from tests.factories import UserFactory


@pytest.fixture
def security_admin(county):
    return UserFactory(
        username="secadmin1", real_name="蒋安全", department=county["office"], role=roles.SECURITY_ADMINISTRATOR
    )


@pytest.fixture
def audit_admin(county):
    return UserFactory(
        username="auditor1", real_name="韩审计", department=county["office"], role=roles.AUDIT_ADMINISTRATOR
    )


@pytest.fixture
def superuser(county):
    return UserFactory(username="root", real_name="超级管理员", department=county["office"], is_superuser=True)


@pytest.fixture
def authenticator():
    """A confirmed authenticator app for `user`, and a function giving its code at a time step."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.management.commands.demo_otp import demo_code

    def _authenticator(user):
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        return device, lambda at=None: demo_code(device, at=at)

    return _authenticator


@pytest.fixture
def sign_in(client, authenticator):
    """Through the real pages: password, then the code from a new authenticator."""
    from django.urls import reverse

    def _sign_in(user, password):
        response = client.post(reverse("admin:login"), {"username": user.username, "password": password})
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:otp_verify"))
        _, code = authenticator(user)
        response = client.post(reverse("admin:otp_verify"), {"code": code()})
        assert response.status_code == 302, response.content.decode()[:1000]
        return client

    return _sign_in
