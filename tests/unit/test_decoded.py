"""What `server.store.decoded` tells the type checker is true of the client the app opens:
every reply shape it names comes back as str."""

from __future__ import annotations

from server.settings import Settings
from server.store import decoded
from server.store.connection import Redis, open_redis


async def test_the_apps_client_decodes_every_reply_it_narrows(
    redis: Redis, settings: Settings
) -> None:
    # The `redis` fixture only empties the database that the app's client opens here.
    async with open_redis(settings) as client:
        await client.set("t:text", "é")
        await client.hset("t:hash", mapping=decoded.writable({"field": "value"}))
        await client.sadd("t:set", "member")
        await client.rpush("t:list", "item")
        await client.zadd("t:zset", {"ranked": 1.5})
        entry_id = await client.xadd("t:stream", decoded.writable({"field": "value"}))
        await client.xgroup_create("t:stream", "g", id="0")

        assert decoded.text(await client.get("t:text")) == "é"
        assert decoded.text(await client.hget("t:hash", "field")) == "value"
        assert decoded.fields(await client.hgetall("t:hash")) == {"field": "value"}
        assert decoded.members(await client.smembers("t:set")) == {"member"}
        assert decoded.strings(await client.lrange("t:list", 0, -1)) == ["item"]
        assert decoded.strings(await client.hvals("t:hash")) == ["value"]
        assert decoded.strings(await client.zrange("t:zset", 0, -1)) == ["ranked"]
        assert decoded.scored(await client.zrange("t:zset", 0, -1, withscores=True)) == [
            ("ranked", 1.5)
        ]
        assert decoded.entries(await client.xrange("t:stream")) == [(entry_id, {"field": "value"})]
        assert decoded.streams(await client.xreadgroup("g", "c", {"t:stream": ">"})) == [
            ["t:stream", [(entry_id, {"field": "value"})]]
        ]
        assert isinstance(entry_id, str)
