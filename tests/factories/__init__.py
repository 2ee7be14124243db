"""factory_boy factories, one module per app; import them from here."""

from tests.factories.core import (
    PASSWORD,
    AuditEventFactory,
    StaffProfileFactory,
    UserFactory,
)
from tests.factories.datapool import (
    FacilityLayerFactory,
    ImportRunFactory,
    IndicatorFactory,
    ObservationFactory,
    VariableFactory,
)
from tests.factories.infrastructure import (
    FacilityFactory,
    FacilityTypeFactory,
    SupplyRuleFactory,
)
from tests.factories.lor import CustomAreaSetFactory, LorUnitFactory, real_unit, square
from tests.factories.profiles import ProfileEditionFactory, ProfileFactory
from tests.factories.queries import SavedQueryFactory

__all__ = [
    "PASSWORD",
    "AuditEventFactory",
    "CustomAreaSetFactory",
    "FacilityFactory",
    "FacilityLayerFactory",
    "FacilityTypeFactory",
    "ImportRunFactory",
    "IndicatorFactory",
    "LorUnitFactory",
    "ObservationFactory",
    "ProfileEditionFactory",
    "ProfileFactory",
    "SavedQueryFactory",
    "StaffProfileFactory",
    "SupplyRuleFactory",
    "UserFactory",
    "VariableFactory",
    "real_unit",
    "square",
]
