"""How a webhook delivery is signed: HMAC-SHA256 over "timestamp.body" with each valid secret.

The headers (the receiver's side is in docs/webhooks.md):

- ``Chatops-Webhook-Id``: the event id, the same in every attempt (receivers drop repeats by it);
- ``Chatops-Webhook-Timestamp``: Unix seconds of this attempt;
- ``Chatops-Webhook-Signature``: ``v1=<hex>``, one per valid secret, separated by spaces.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"
ID_HEADER = "Chatops-Webhook-Id"
TIMESTAMP_HEADER = "Chatops-Webhook-Timestamp"
SIGNATURE_HEADER = "Chatops-Webhook-Signature"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``timestamp.body`` under the secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(*, event_id: str, secrets: list[str], timestamp: int, body: bytes) -> dict[str, str]:
    """Return the headers of one attempt: event id, timestamp and a signature per secret."""
    signatures = " ".join(f"{SCHEME}={signature(secret=s, timestamp=timestamp, body=body)}" for s in secrets)
    return {ID_HEADER: event_id, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signatures}
