"""Writes to the LOR tables: the scheme imports, the crosswalk, custom areas."""

from .crosswalk import CrosswalkError, CrosswalkReport, crosswalk_compute
from .custom_areas import (
    AreaSpec,
    CustomAreaError,
    custom_area_set_create,
    custom_area_set_delete,
)
from .lor2006_import import (
    KeyCorrection,
    Lor2006ImportReport,
    Lor2006Source,
    lor2006_import,
    read_corrections,
)
from .lor_import import LorImportReport, LorSource, lor_import
from .scheme_import import LorImportError

__all__ = [
    "AreaSpec",
    "CrosswalkError",
    "CrosswalkReport",
    "CustomAreaError",
    "KeyCorrection",
    "Lor2006ImportReport",
    "Lor2006Source",
    "LorImportError",
    "LorImportReport",
    "LorSource",
    "crosswalk_compute",
    "custom_area_set_create",
    "custom_area_set_delete",
    "lor2006_import",
    "lor_import",
    "read_corrections",
]
