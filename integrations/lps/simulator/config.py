"""What the simulator is told on its command line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimulatorConfig:
    api_base: str  # almenvideo's base URL, e.g. http://127.0.0.1:8080
    api_key: str  # the vendor's key, avk_…
    clinic: str  # the clinic's ydernummer
    practitioner: str  # the GP's user name at almenvideo
    host: str = "127.0.0.1"
    port: int = 8090
    public_url: str | None = None  # where almenvideo reaches the simulator (webhooks)
    # Without a secret, the simulator registers its own webhook at start and uses the
    # secret it is given (PUT /api/v1/webhook issues a new one each time).
    webhook_secret: str | None = None

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks"
