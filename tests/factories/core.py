"""Factories for users with a PRISMA role, staff profiles and audit events."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from core.access import Role, user_assign
from core.models import AuditEvent, StaffProfile
from tests.factories.lor import real_unit
from tests.support.login import PASSWORD


class UserFactory(DjangoModelFactory):
    """A user with password PASSWORD and, if given, one role (and district).

    ``UserFactory(role=Role.PLANNER, bezirk_code="01")`` assigns the role as the
    admin does (``core.access.user_assign``): groups, staff flag and profile.
    """

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"nutzer{n + 1}")
    password = factory.django.Password(PASSWORD)

    @classmethod
    def _create(cls, model_class, *args, role=None, bezirk_code=None, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        if role is not None:
            user_assign(user=user, role=Role(role), bezirk_code=bezirk_code)
        return user

    @classmethod
    def _build(cls, model_class, *args, role=None, bezirk_code=None, **kwargs):
        return super()._build(model_class, *args, **kwargs)


class StaffProfileFactory(DjangoModelFactory):
    """The district of a user without a role (the role's profile comes from
    ``UserFactory(role=…)``)."""

    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    bezirk = factory.LazyFunction(lambda: real_unit("01"))


class AuditEventFactory(DjangoModelFactory):
    class Meta:
        model = AuditEvent

    user = factory.SubFactory(UserFactory)
    username = factory.SelfAttribute("user.username")
    action = AuditEvent.Action.EXPORT
    object_label = "auswahl.xlsx"
    details = factory.Dict({"format": "xlsx"})
