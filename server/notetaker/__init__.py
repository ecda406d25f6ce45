"""The AI note-taker pilot: consent, the live session that taps a call, and the review."""
