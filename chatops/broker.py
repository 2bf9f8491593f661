"""kombu's Redis transport, with one fix: a closed connection's channel no longer kills the worker.

When Redis goes away while the worker waits for tasks (BRPOP) and holds tasks it has not
acknowledged yet (acks_late), celery 5.7's consumer first collects the broken connection
(``Connection.collect()``, which clears the transport's ``client``) and then closes it. Closing
runs the channel's close again, and that one tries to give the unacknowledged tasks back to Redis
through a new connection pool, built from ``transport.client`` — now None:

    AttributeError: 'NoneType' object has no attribute 'hostname'   (kombu/transport/redis.py, _connparams)

An AttributeError is not a connection error, so the consumer does not reconnect: the worker stops
with "Unrecoverable error" (celery 5.7.0, kombu 5.7.0, redis-py 8.1.0; the same family as
celery/kombu#582). Here a channel whose transport has been closed raises the transport's own
connection error instead, which the consumer already handles: it logs, reconnects and goes on.
The unacknowledged tasks stay in Redis' "unacked" set and are delivered again after the
visibility timeout (the tasks are safe to run twice), so nothing is lost.

Settings select this transport with ``CELERY_BROKER_TRANSPORT`` when ``REDIS_URL`` is set.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    """A Redis channel that refuses to open a connection for a transport that has been closed."""

    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection.client is None:
            raise RedisConnectionError("The broker connection of this channel was closed.")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    """The Redis transport with the channel above."""

    Channel = Channel
