"""Pilots: the rules of a trial of a new way of working, what it records and what it shows as
evidence. Pure functions and data only; the Redis services are in `server.store` and
`server.honoraria`."""
