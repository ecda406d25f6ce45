"""How calls go in production: what counts as an attempt and a success, and the figures."""
