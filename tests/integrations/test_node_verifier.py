"""The documented Node.js verifier accepts a real delivery and refuses a forged, replayed or altered one."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from integrations import services, signing
from integrations.models import EventType
from tests.integrations.conftest import documented_snippet

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js")

CHECK = """
const { verifyWebhook } = require(process.argv[2]);
const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
try {
  const event = verifyWebhook({ body: Buffer.from(input.body, "utf8"), headers: input.headers, secret: input.secret });
  process.stdout.write(JSON.stringify({ accepted: event.id }));
} catch (error) {
  process.stdout.write(JSON.stringify({ refused: error.message }));
}
"""


@pytest.fixture
def node_verify(tmp_path):
    module = tmp_path / "verify.js"
    module.write_text(documented_snippet("js"), encoding="utf-8")
    script = tmp_path / "check.js"
    script.write_text(CHECK, encoding="utf-8")

    def verify(*, body: bytes, headers: dict[str, str], secret: str) -> dict:
        lower = {name.lower(): value for name, value in headers.items()}
        payload = json.dumps({"body": body.decode(), "headers": lower, "secret": secret})
        done = subprocess.run(
            [NODE, str(script), str(module)], input=payload, capture_output=True, text=True, timeout=30, check=True
        )
        return json.loads(done.stdout)

    return verify


def test_node_accepts_what_chatops_sent(endpoint, receiver, tenant, node_verify):
    # given: a real delivery, as the receiver got it
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(delivery.pk)
    [request] = receiver.received

    # then
    assert node_verify(body=request.body, headers=request.headers, secret=endpoint.secret) == {
        "accepted": str(delivery.event_id)
    }
    assert node_verify(body=request.body, headers=request.headers, secret="whsec_other") == {
        "refused": "no valid signature"
    }
    assert node_verify(body=request.body + b" ", headers=request.headers, secret=endpoint.secret) == {
        "refused": "no valid signature"
    }


def test_node_refuses_an_old_timestamp(endpoint, node_verify):
    body = b'{"id":"x"}'
    old = signing.signed_headers(event_id="x", secrets=[endpoint.secret], timestamp=int(time.time()) - 600, body=body)

    assert node_verify(body=body, headers=old, secret=endpoint.secret) == {
        "refused": "timestamp outside the replay window"
    }
