"""Print the widget script's size as sent: raw and gzipped (the budget is 8 KB gzipped).

Run: .venv/bin/python bench/widget_size.py
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

WIDGET = Path(__file__).resolve().parent.parent / "conversations" / "static" / "conversations" / "widget.js"
BUDGET_GZIPPED = 8 * 1024


def main() -> int:
    raw = WIDGET.read_bytes()
    # Level 6 is what web servers and Django's GZipMiddleware use by default.
    packed = gzip.compress(raw, compresslevel=6, mtime=0)
    print(f"widget.js raw:     {len(raw):>7,} bytes ({len(raw) / 1024:.1f} KB)")
    budget = f"budget {BUDGET_GZIPPED / 1024:.0f} KB"
    print(f"widget.js gzipped: {len(packed):>7,} bytes ({len(packed) / 1024:.1f} KB), {budget}")
    if len(packed) > BUDGET_GZIPPED:
        print("over budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
