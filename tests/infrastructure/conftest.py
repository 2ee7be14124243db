import importlib

import pytest
from django.apps import apps

from tests.infrastructure.world import build_world

SEED = importlib.import_module("infrastructure.migrations.0004_supply_rule_seed")


@pytest.fixture(autouse=True)
def supply_rules_seeded(db):
    """The supply rules of the data migration, as every real database has them.

    A transactional test (the browser tests) flushes the tables, seeded rows
    included; with ``--reuse-db`` they stay gone for the tests after it. The
    seed is idempotent (get_or_create).
    """
    SEED.seed(apps, None)


@pytest.fixture
def world(lor_units):
    """The supply rule, Planungsräume and Kitas of ``world.py``."""
    return build_world()
