"""Note-taker engines: each implements `server.notetaker.protocol` and is found by
`server.notetaker.registry` through the `almenvideo.notetakers` entry points."""
