"""Integrations at the edge of the platform: LPS vendors and note-taker engines."""
