"""Pilots: what a trial of a new way of working records, and what it shows as evidence."""
