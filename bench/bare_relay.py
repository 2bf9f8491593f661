"""A bare relay with the product's durability: the baseline `bench/chat_load.py` measures the live chat against.

Per visitor message ONE SQL statement bumps the conversation's sequence and stores the message (a CTE,
UPDATE … RETURNING then INSERT … SELECT, idempotent by the client's id; autocommit, so no BEGIN or COMMIT),
then the sender's ack, then ONE Redis PUBLISH to the conversation's channel. Agent sockets follow
conversations; each process has one pubsub connection and fans out to its own sockets. GET /stats answers
the statements run so far. Not product code: the bench starts it (talks only to 127.0.0.1).

    python bench/bare_relay.py --port 8765 --database-url postgres://… --redis-url redis://127.0.0.1:6399/0
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter, defaultdict
from http import HTTPStatus

import psycopg
import redis.asyncio as aioredis
from websockets.asyncio.server import broadcast, serve

TABLES = (
    "CREATE TABLE IF NOT EXISTS bare_conversation (id bigserial PRIMARY KEY, last_seq integer NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS bare_message (id bigserial PRIMARY KEY, conversation_id bigint NOT NULL"
    " REFERENCES bare_conversation ON DELETE CASCADE, seq integer NOT NULL, client_msg_id varchar(64) NOT NULL,"
    " body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
    " UNIQUE (conversation_id, seq), UNIQUE (conversation_id, client_msg_id))",
)
SQL = {
    "start": "INSERT INTO bare_conversation DEFAULT VALUES RETURNING id",
    "resume": "SELECT seq, client_msg_id, body FROM bare_message WHERE conversation_id = %s AND seq > %s ORDER BY seq",
    # A resend (same client id) is stored once but leaves a gap in the sequence; the bench never resends.
    "append": "WITH bumped AS (UPDATE bare_conversation SET last_seq = last_seq + 1 WHERE id = %s"
    " RETURNING id, last_seq) INSERT INTO bare_message (conversation_id, seq, client_msg_id, body)"
    " SELECT id, last_seq, %s, %s FROM bumped ON CONFLICT (conversation_id, client_msg_id) DO NOTHING RETURNING seq",
    "resent": "SELECT seq FROM bare_message WHERE conversation_id = %s AND client_msg_id = %s",
}
STATEMENTS: Counter[str] = Counter()
FOLLOWERS: defaultdict[str, set] = defaultdict(set)


async def run(pool: asyncio.Queue, kind: str, *params) -> list[tuple]:
    """Run one statement on a free connection of the pool and return its rows."""
    STATEMENTS[kind] += 1
    connection = await pool.get()
    try:
        return await (await connection.execute(SQL[kind], params)).fetchall()
    finally:
        pool.put_nowait(connection)


async def visitor(socket, pool: asyncio.Queue, publisher) -> None:
    conversation = 0
    async for raw in socket:
        frame = json.loads(raw)
        if frame["type"] == "hello":
            conversation, after = int(frame.get("conversation") or 0), int(frame.get("last_seq") or 0)
            missed = await run(pool, "resume", conversation, after) if conversation else []
            conversation = conversation or (await run(pool, "start"))[0][0]
            messages = [{"seq": s, "client_msg_id": c, "body": b} for s, c, b in missed]
            await socket.send(json.dumps({"type": "welcome", "conversation": conversation, "messages": messages}))
        elif frame["type"] == "message" and conversation:
            cid, body = frame["client_msg_id"], frame["body"]
            rows = await run(pool, "append", conversation, cid, body) or await run(pool, "resent", conversation, cid)
            await socket.send(json.dumps({"type": "ack", "client_msg_id": cid, "seq": rows[0][0]}))
            event = {"type": "message", "conversation": conversation, "seq": rows[0][0], "sender": "visitor"}
            await publisher.publish(f"bare.{conversation}", json.dumps(event | {"client_msg_id": cid, "body": body}))


async def agent(socket, pubsub) -> None:
    try:
        async for raw in socket:
            conversation = int(json.loads(raw)["conversation"])
            if not FOLLOWERS[f"bare.{conversation}"]:
                await pubsub.subscribe(f"bare.{conversation}")
            FOLLOWERS[f"bare.{conversation}"].add(socket)
            await socket.send(json.dumps({"type": "following", "conversation": conversation}))
    finally:
        for sockets in FOLLOWERS.values():
            sockets.discard(socket)


async def fan_out(pubsub) -> None:
    async for item in pubsub.listen():
        if item["type"] == "message":
            broadcast(FOLLOWERS.get(item["channel"], ()), item["data"])


def stats(connection, request):
    if request.path == "/stats":
        return connection.respond(
            HTTPStatus.OK, json.dumps({"statements": {SQL[kind]: n for kind, n in STATEMENTS.items()}}) + "\n"
        )
    return None


async def main(port: int, database_url: str, redis_url: str, connections: int) -> None:
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await psycopg.AsyncConnection.connect(database_url, autocommit=True))
    connection = await pool.get()
    for statement in TABLES:
        await connection.execute(statement)
    pool.put_nowait(connection)
    publisher = aioredis.from_url(redis_url, decode_responses=True)
    pubsub = publisher.pubsub()
    await pubsub.subscribe("bare.control")  # listen() returns at once while nothing is subscribed
    listener = asyncio.create_task(fan_out(pubsub))

    async def route(socket) -> None:
        await (agent(socket, pubsub) if socket.request.path == "/agent" else visitor(socket, pool, publisher))

    # No per-message compression, like daphne: its deflate state would dominate an idle socket's memory.
    async with serve(route, "127.0.0.1", port, process_request=stats, compression=None):
        await listener


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    # Six, as many as a daphne process has threads for ORM work on this 2-core machine (min(32, cores + 4)).
    parser.add_argument("--connections", type=int, default=6, help="database connections in the pool")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.database_url, args.redis_url, args.connections))
