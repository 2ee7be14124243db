"""Writes to the LOR tables: the scheme import and planners' custom areas."""

from .custom_areas import (
    AreaSpec,
    CustomAreaError,
    custom_area_set_create,
    custom_area_set_delete,
)
from .lor_import import LorImportError, LorImportReport, LorSource, lor_import

__all__ = [
    "AreaSpec",
    "CustomAreaError",
    "LorImportError",
    "LorImportReport",
    "LorSource",
    "custom_area_set_create",
    "custom_area_set_delete",
    "lor_import",
]
