"""Print the widget script's size: the source, and as sent (without comments, gzipped; the budget is 8 KB).

Run: .venv/bin/python bench/widget_size.py
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conversations.widget_script import served_script  # noqa: E402 (after the path is set)

WIDGET = ROOT / "conversations" / "static" / "conversations" / "widget.js"
BUDGET_GZIPPED = 8 * 1024


def _gzipped(data: bytes) -> int:
    # Level 6 is what web servers and Django's GZipMiddleware use by default.
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def main() -> int:
    source = WIDGET.read_bytes()
    served = served_script(source.decode("utf-8")).encode()
    print(f"widget.js source:  {len(source):>7,} bytes ({len(source) / 1024:.1f} KB), {_gzipped(source):,} gzipped")
    print(f"widget.js served:  {len(served):>7,} bytes ({len(served) / 1024:.1f} KB)")
    packed = _gzipped(served)
    budget = f"budget {BUDGET_GZIPPED / 1024:.0f} KB"
    print(f"served, gzipped:   {packed:>7,} bytes ({packed / 1024:.1f} KB), {budget}")
    if packed > BUDGET_GZIPPED:
        print("over budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
