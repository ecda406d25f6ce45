"""The HTTP API under /api/v1: for LPS vendors and for organisations' own systems."""
