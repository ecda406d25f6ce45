"""`python -m integrations.lps.simulator --api-base URL --api-key KEY --clinic YDERNUMMER
--practitioner USERNAME --port P`"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from aiohttp import web

from integrations.lps.simulator.app import create_app
from integrations.lps.simulator.config import SimulatorConfig


def parse(argv: list[str] | None = None) -> SimulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m integrations.lps.simulator",
        description="A practice system (LPS) that uses almenvideo through its API.",
    )
    parser.add_argument("--api-base", required=True, help="almenvideo, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("ALMENVIDEO_API_KEY"),
        help="the vendor's key (or ALMENVIDEO_API_KEY, which keeps it out of `ps`)",
    )
    parser.add_argument("--clinic", required=True, help="the clinic's ydernummer")
    parser.add_argument("--practitioner", required=True, help="the GP's user name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--public-url", help="where almenvideo reaches this simulator (default http://host:port)"
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("LPS_WEBHOOK_SECRET"),
        help="whsec_…; without it the simulator registers its own webhook at start",
    )
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("--api-key (or ALMENVIDEO_API_KEY) is required")
    return SimulatorConfig(
        api_base=args.api_base, api_key=args.api_key, clinic=args.clinic,
        practitioner=args.practitioner, host=args.host, port=args.port,
        public_url=args.public_url, webhook_secret=args.webhook_secret,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    config = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(
        create_app(config),
        host=config.host,
        port=config.port,
        print=lambda text: print(f"LPS simulator: {text}", flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
