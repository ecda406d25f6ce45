"""An LPS simulator: a small practice system that uses almenvideo the way a vendor's would,
through the real API, webhooks and the embedded GP view, over real sockets.

    python -m integrations.lps.simulator --api-base http://127.0.0.1:8080 --api-key avk_… \\
        --clinic 099999 --practitioner demo-gp --port 8090

It books from a calendar, shows the patient link, frames the GP's view and logs what it
says, receives signed webhooks, and files and acknowledges approved notes. Its memory is
its process: it is a demonstration and a test fixture, not a record system.
"""
