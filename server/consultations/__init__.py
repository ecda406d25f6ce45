"""Consultation rules: link validity, lifecycle and the billing code."""
