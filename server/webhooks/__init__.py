"""Webhooks for LPS vendors: the public event payloads, Standard Webhooks signing, and
at-least-once delivery from the event stream (consumer group -> per-vendor outbox -> HTTP)."""
