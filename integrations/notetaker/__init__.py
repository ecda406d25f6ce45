"""The note-taker engine hook: one small protocol, engines beside it, found by entry point."""
