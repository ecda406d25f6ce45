"""Retention: what the platform keeps, for how long, and the job that deletes the rest."""
