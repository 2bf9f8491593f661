"""What encryption at rest and card masking cost per chat message.

Prints three things:
1. sealing and opening one message (Fernet under the newest key, as ``conversations.sealing`` does),
   and masking it (``conversations.redaction``), in microseconds;
2. storing a visitor's message in a running chat (``services.post_visitor_message``, one SQL statement on
   PostgreSQL) for a tenant that stores plain text and one that encrypts, taking turns;
3. reading a chat's history of 50 messages back (``services.messages_after``, as a reconnecting client),
   plain and encrypted.

    .venv/bin/python bench/encryption_cost.py --messages 2000

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/chatops_encryption_bench) names the
database; it is created and migrated if missing, and the bench tenants are replaced on every run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from benchdb import use_database

TEXT = "Hei! Tilasin viime viikolla kahvinkeittimen (tilaus 100234) ja se ei vieläkään ole tullut. Milloin?"
SLUGS = ("encryption-bench-plain", "encryption-bench-sealed")


def micro(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"mean {statistics.mean(seconds) * 1e6:7.1f} µs, p50 {statistics.median(seconds) * 1e6:7.1f} µs, "
        f"p99 {p99 * 1e6:7.1f} µs"
    )


def timed(call, repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return seconds


def crypto_only(repeat: int) -> None:
    from conversations import redaction, sealing

    token = sealing.seal(TEXT)
    print(f"message of {len(TEXT)} characters; its token is {len(token)} characters")
    print(f"  seal                 {micro(timed(lambda: sealing.seal(TEXT), repeat))}")
    print(f"  open                 {micro(timed(lambda: sealing.unseal(token), repeat))}")
    print(f"  mask (no card)       {micro(timed(lambda: redaction.redact(TEXT), repeat))}")
    with_card = TEXT + " Kortti 4242 4242 4242 4242."
    print(f"  mask (with a card)   {micro(timed(lambda: redaction.redact(with_card), repeat))}")


def fresh_chats():
    from conversations import services
    from conversations.models import Visitor
    from tenants.models import Tenant

    Tenant.objects.filter(slug__in=SLUGS).delete()
    chats = {}
    for slug in SLUGS:
        sealed = slug.endswith("sealed")
        tenant = Tenant.objects.create(
            name=slug, slug=slug, encrypt_messages=sealed, stored_encrypted=sealed, time_zone="Europe/Helsinki"
        )
        visitor = Visitor.objects.create(tenant=tenant)
        chats[slug] = services.start_conversation(tenant=tenant, visitor=visitor, route=False)
    return chats


def storing(messages: int) -> None:
    from conversations import services

    chats = fresh_chats()
    seconds = {slug: [] for slug in SLUGS}
    for number in range(messages):
        for slug in SLUGS:  # taking turns, so a passing load touches both alike
            began = time.perf_counter()
            services.post_visitor_message(conversation=chats[slug], body=TEXT, client_msg_id=f"m{number}")
            seconds[slug].append(time.perf_counter() - began)
    print(f"storing {messages} visitor messages in a running chat (PostgreSQL, one statement each)")
    for slug in SLUGS:
        print(f"  {'encrypted' if slug.endswith('sealed') else 'plain':<10} {micro(seconds[slug])}")
    reading(chats)


def reading(chats, repeat: int = 200) -> None:
    from conversations import services

    print(f"reading a history of 50 messages back ({repeat} times)")
    for slug in SLUGS:
        last = chats[slug].__class__.objects.get(pk=chats[slug].pk).last_seq
        took = timed(
            lambda slug=slug, last=last: services.messages_after(conversation=chats[slug], seq=last - 50), repeat
        )
        print(f"  {'encrypted' if slug.endswith('sealed') else 'plain':<10} {micro(took)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20000, help="rounds of the sealing and masking timings")
    args = parser.parse_args()
    from cryptography.fernet import Fernet

    os.environ.setdefault("CHATOPS_ENCRYPTION_KEYS", f"bench:{Fernet.generate_key().decode()}")
    os.environ["CHAT_MESSAGES_PER_VISITOR_PER_MINUTE"] = str(10 * args.messages)
    use_database(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatops_encryption_bench"))
    crypto_only(args.repeat)
    storing(args.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
