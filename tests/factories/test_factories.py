"""Every factory builds a saved object that passes the model's own validation."""

from __future__ import annotations

import pytest

from core.access import Role, user_role
from lor.models import LorUnit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "factory",
    [
        factories.LorUnitFactory,
        factories.CustomAreaSetFactory,
        factories.UserFactory,
        factories.StaffProfileFactory,
        factories.AuditEventFactory,
        factories.VariableFactory,
        factories.ImportRunFactory,
        factories.ObservationFactory,
        factories.IndicatorFactory,
        factories.FacilityLayerFactory,
        factories.FacilityTypeFactory,
        factories.FacilityFactory,
        factories.SupplyRuleFactory,
        factories.SavedQueryFactory,
        factories.ProfileFactory,
        factories.ProfileEditionFactory,
    ],
    ids=lambda f: f.__name__,
)
def test_factory_builds_a_valid_saved_object(factory, lor_units):
    obj = factory()

    assert obj.pk is not None
    obj.full_clean()
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_made_up_units_are_small_valid_squares_beside_the_real_ones(lor_units):
    first, second = factories.LorUnitFactory.create_batch(2)

    assert first.code.startswith("99") and len(first.code) == 8
    assert first.code != second.code
    assert first.geom.srid == 25833 and first.geom.valid
    assert first.area_m2 == pytest.approx(10_000)
    assert not first.geom.intersects(second.geom)
    mitte = LorUnit.objects.get(code="01")
    assert first.geom.intersects(mitte.geom)  # somewhere in Berlin


def test_a_unit_with_a_real_key_is_the_real_unit(lor_units):
    mitte = factories.LorUnitFactory(code="01")

    assert mitte == factories.real_unit("01")
    assert mitte.name == "Mitte" and mitte.level == LorUnit.Level.BEZIRK


def test_user_factory_assigns_role_and_district(lor_units):
    user = factories.UserFactory(role=Role.COORDINATOR, bezirk_code="03")

    assert user_role(user) == Role.COORDINATOR
    assert user.staff_profile.bezirk.code == "03"
    assert user.check_password(factories.PASSWORD)
    assert factories.UserFactory(username=user.username) == user
