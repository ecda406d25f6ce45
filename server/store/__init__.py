"""Redis: the one place for shared state. Key names live in `keys`."""
