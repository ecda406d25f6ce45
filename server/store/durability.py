"""Money and consent writes are acknowledged only once a replica holds them.

Redis replicates asynchronously: a master that dies (kill -9, its machine lost) takes the
writes of its last moments with it, and Sentinel promotes a replica without them. For a
queue place that is healed by the next presence round; for a ledger entry or a consent
record it is not. So after such a write, `confirm_replicated` waits (Redis `WAIT`) until
`durable_replicas` replicas have it, or raises `NotReplicated`: the caller then answers an
error, never an acknowledgement of something a failover may still undo.

`WAIT` counts the writes of the connection it is sent on, and a pooled write may have gone
out on another one. Replication is one ordered stream, though, so a replica that has a
write made after ours has ours too: the fence is one small write (`keys.REPLICATION_FENCE`)
and the `WAIT` behind it, on one connection.
"""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError

from server.store import keys
from server.store.connection import Redis


class NotReplicated(RedisConnectionError):
    """The write is on the master, but not on enough replicas within the timeout; it may be
    lost if the master dies now. A ConnectionError, so pages and the API answer 503."""


async def confirm_replicated(redis: Redis) -> None:
    """Return once `redis.durable_replicas` replicas hold every write made before this call
    (on any connection); at once when none are asked for."""
    wanted = getattr(redis, "durable_replicas", 0)
    if wanted <= 0:
        return
    timeout_ms = getattr(redis, "durable_timeout_ms", 2000)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(keys.REPLICATION_FENCE)
        pipe.execute_command("WAIT", wanted, timeout_ms)
        _, acknowledged = await pipe.execute()
    if int(acknowledged) < wanted:
        raise NotReplicated(
            f"the write reached {acknowledged} of {wanted} replica(s) within {timeout_ms} ms"
        )
