"""Who did something, and through which door: what the audit stream and the events name.

A change a person makes on a page and the same change a vendor makes through the API are
one action; the `Actor` is the only thing that differs, so domain functions take one and
record it the same way for every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from server.store.users import User
from server.store.vendors import Vendor


@dataclass(frozen=True)
class Actor:
    kind: Literal["user", "vendor"]
    id: str
    channel: Literal["web", "api"]

    @classmethod
    def of_user(cls, user: User) -> Actor:
        """A logged-in person, on the web pages."""
        return cls("user", user.id, "web")

    @classmethod
    def of_vendor(cls, vendor: Vendor) -> Actor:
        """An LPS vendor, by its API key."""
        return cls("vendor", vendor.id, "api")

    @property
    def name(self) -> str:
        """As the audit stream names actors: "user:<id>" or "vendor:<id>"."""
        return f"{self.kind}:{self.id}"

    def event_fields(self) -> dict[str, str]:
        """How an event payload names who did it: `by` a user, or the `vendor`."""
        return {"by": self.id} if self.kind == "user" else {"vendor": self.id}
