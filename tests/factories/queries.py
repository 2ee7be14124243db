"""Factories for saved queries."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from queries.models import SavedQuery
from tests.factories.core import UserFactory


class SavedQueryFactory(DjangoModelFactory):
    """A private query for the inhabitants (E_E) of every Planungsraum."""

    class Meta:
        model = SavedQuery

    title = factory.Sequence(lambda n: f"Anfrage {n + 1}")
    inquiry_reference = "Drucksache 19/12345"
    owner = factory.SubFactory(UserFactory)
    selection = factory.Dict(
        {
            "level": "planungsraum",
            "columns": ["E_E"],
            "date": None,
            "derived": [],
            "conditions": [],
            "within": "",
        }
    )
