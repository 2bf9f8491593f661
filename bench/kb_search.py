"""Time the console's knowledge-base search on a tenant with a few thousand articles, and print the figures.

For each language (English, Finnish, Polish) it builds a tenant whose knowledge base holds the small
corpus of the search-quality tests plus thousands of made-up articles, a few percent of whose keywords
and text come from that corpus (so every typical question matches a good number of them), then runs
every typical question many times through tenants.search.search_articles. Prints p50, p95 and the
slowest search per language, and how many questions still get their right article first among all
that noise. Talks only to 127.0.0.1.

    python bench/kb_search.py --articles 3000 --rounds 20

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/chatops_kb_bench);
the database is created and migrated if missing, and the bench tenants are replaced on every run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from benchdb import use_database

# The share of a made-up article's words taken from the real articles: each question matches a few percent.
CORPUS_SHARE = 0.05


def filler_articles(corpus, count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """Return made-up articles: words of their own, with a sprinkling of the corpus's words in keywords and text."""
    corpus_words = [word for title, keywords, body in corpus for word in f"{title} {keywords} {body}".split()]
    syllables = ["ka", "lo", "mi", "ne", "tu", "ra", "si", "vo", "pe", "an", "er", "ul", "is", "ok", "ja"]
    own_words = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(8000)]

    def words(count: int, share: float = CORPUS_SHARE) -> list[str]:
        return [rng.choice(corpus_words) if rng.random() < share else rng.choice(own_words) for _ in range(count)]

    articles = []
    for n in range(count):
        # Titles of their own: a real knowledge base has no hundreds of articles named after a question's word.
        title = " ".join(words(4, share=0)).capitalize() + f" {n}"
        keywords = ", ".join(word.strip(",.") for word in words(4))
        body = " ".join(words(rng.randint(40, 200)))
        articles.append((title, keywords, body))
    return articles


def build_tenant(language: str, corpus, count: int, rng: random.Random):
    from tenants.models import KnowledgeArticle, Tenant

    slug = f"kb-bench-{language}"
    Tenant.objects.filter(slug=slug).delete()
    tenant = Tenant.objects.create(name=f"KB bench {language}", slug=slug, language=language)
    rows = [*corpus, *filler_articles(corpus, count - len(corpus), rng)]
    KnowledgeArticle.objects.bulk_create(
        [KnowledgeArticle(tenant=tenant, title=title, keywords=keywords, body=body) for title, keywords, body in rows],
        batch_size=1000,
    )
    return tenant


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=3000, help="articles per tenant (default 3000)")
    parser.add_argument("--rounds", type=int, default=20, help="times each question is searched (default 20)")
    parser.add_argument("--languages", default="en,fi,pl", help="comma-separated (default en,fi,pl)")
    args = parser.parse_args()

    database = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatops_kb_bench")
    if not database.startswith(("postgres://", "postgresql://")):
        raise SystemExit("BENCH_DATABASE_URL must point at PostgreSQL: the bench measures its full-text search.")
    use_database(database)

    from django.db import connection

    from tenants.search import search_articles
    from tests.tenants.test_search import CORPORA

    rng = random.Random(4)
    print(f"knowledge-base search, {args.articles} articles per tenant, {args.rounds} rounds per question")
    print(f"{'language':<9} {'searches':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  right article first")
    for language in args.languages.split(","):
        corpus, questions = CORPORA[language]
        tenant = build_tenant(language, corpus, args.articles, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tenants_knowledgearticle")
        search_articles(tenant=tenant, query=questions[0][0])  # warm the connection and the plan cache
        timings, right = [], 0
        for round_number in range(args.rounds):
            for question, expected in questions:
                started = time.perf_counter()
                hits = search_articles(tenant=tenant, query=question)
                timings.append((time.perf_counter() - started) * 1000)
                if round_number == 0 and hits and hits[0].title == expected:
                    right += 1
        print(
            f"{language:<9} {len(timings):>8} {statistics.median(timings):>8.1f} {percentile(timings, 0.95):>8.1f} "
            f"{max(timings):>8.1f}  {right}/{len(questions)}"
        )


if __name__ == "__main__":
    main()
