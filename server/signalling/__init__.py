"""WebSocket signalling: message schemas, routing between instances, the per-socket session."""
