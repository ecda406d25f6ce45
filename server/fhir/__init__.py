"""A read-only FHIR R4 facade over consultations and notes, for LPS vendors (their API key,
their clinics). Resources are built by pure functions, one module per resource."""
