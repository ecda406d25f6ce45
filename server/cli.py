"""Command line: `almenvideo serve | demo-setup | schema`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import sys
from pathlib import Path

from aiohttp import web

from server.accesslog import RedactingAccessLogger
from server.app import create_app
from server.demo import ensure_demo
from server.settings import Settings
from server.signalling.messages import json_schema
from server.store.connection import open_redis


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=Path(args.data_dir) if getattr(args, "data_dir", None) else None,
        redis_url=getattr(args, "redis_url", None),
        base_url=getattr(args, "base_url", None),
    )


def _raise_open_file_limit() -> None:
    """Every waiting patient holds a socket: allow as many as the system lets us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _raise_open_file_limit()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log_class=RedactingAccessLogger,
        print=lambda text: print(f"almenvideo {settings.instance_id}: {text}", flush=True),
    )
    return 0


def _demo_setup(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def run() -> dict[str, object]:
        async with open_redis(settings) as redis:
            return await ensure_demo(redis, settings)

    demo = asyncio.run(run())
    if args.json:
        print(json.dumps(demo, ensure_ascii=False))
    else:
        gp = demo["gp"]
        assert isinstance(gp, dict)
        print(f"GP console:   {demo['clinician_url']}")
        print(f"  username:   {gp['username']}")
        print(f"  password:   {gp['password']}")
        print(f"Patient link: {demo['patient_url']}")
        print(f"Drop-in link: {demo['dropin_url']}")
        print(f"LPS API key:  {demo['api_key']}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="where the embedded Redis keeps its data (default ./var)"
    )
    parser.add_argument("--redis-url", help="use this Redis instead of the embedded one")
    parser.add_argument(
        "--base-url", help="public URL of the site, for links (default from host/port)"
    )
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="almenvideo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server")
    _add_common(serve)
    serve.set_defaults(run=_serve)
    demo = commands.add_parser("demo-setup", help="create the demo clinic and print its logins")
    _add_common(demo)
    demo.add_argument("--json", action="store_true", help="print JSON")
    demo.set_defaults(run=_demo_setup)
    schema = commands.add_parser("schema", help="print the signalling protocol as JSON Schema")
    schema.set_defaults(run=_schema)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
