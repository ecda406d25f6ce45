"""Checking the FHIR facade's answers against the R4B models of `fhir.resources`."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import FHIRAbstractModel, get_fhir_model_class


def validated(resource: dict[str, Any]) -> Any:
    """The resource parsed by its R4B model (which raises if it is not valid R4)."""
    model: type[FHIRAbstractModel] = get_fhir_model_class(resource["resourceType"])
    return model.model_validate(resource)
