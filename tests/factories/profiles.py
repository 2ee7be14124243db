"""Factories for Bezirksregionenprofile and their editions."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from profiles.models import Profile, ProfileEdition
from tests.factories.lor import real_unit


class ProfileFactory(DjangoModelFactory):
    """The profile of a real Bezirksregion (by default Tiergarten Süd, 011001)."""

    class Meta:
        model = Profile
        django_get_or_create = ("region",)

    region = factory.LazyFunction(lambda: real_unit("011001"))


class ProfileEditionFactory(DjangoModelFactory):
    """A draft edition, numbered after the profile's last one."""

    class Meta:
        model = ProfileEdition

    profile = factory.SubFactory(ProfileFactory)
    number = factory.LazyAttribute(lambda e: e.profile.editions.count() + 1)
    title = factory.LazyAttribute(lambda e: f"Profil {e.profile.region.name}")
