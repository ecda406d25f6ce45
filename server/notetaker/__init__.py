"""The AI note-taker pilot: the engine protocol and the registry that finds engines, consent,
the live session that taps a call, and the review."""
