"""The prefix of every Redis key and channel the app uses."""

PREFIX = "av"
