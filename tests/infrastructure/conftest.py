import pytest

from tests.infrastructure.world import build_world


@pytest.fixture
def world(lor_units):
    """The supply rule, Planungsräume and Kitas of ``world.py``."""
    return build_world()
