"""The widget's script as browsers get it: the source without its comments and indentation.

``static/conversations/widget.js`` is written for people; the pages of the clients' sites need none of
its comments, so they are left out when it is served (no build step: this runs once per version of
the file). The rules are line-based, which is safe because the script keeps to them (its header says so):

- a comment is the header ``/* … */``, a line of its own starting with ``//``, a `` // …`` after code,
  or a ``/* … */`` within one line;
- no string, template or regular expression in the script contains `` // `` or ``/* ``, and no line of
  a template starts with spaces that matter.

This module imports nothing from Django, so ``bench/widget_size.py`` measures exactly what is served.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"\A/\*.*?\*/[ \t]*\n", re.DOTALL)
_COMMENT_LINE = re.compile(r"^[ \t]*//.*\n", re.MULTILINE)
_TRAILING_COMMENT = re.compile(r"[ \t]+// .*$", re.MULTILINE)
_ONE_LINE_BLOCK = re.compile(r"[ \t]*/\* .*? \*/")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def served_script(source: str) -> str:
    """Return the widget's source as it is sent: no comments, no indentation, the same lines of code."""
    script = _HEADER.sub("", source)
    script = _COMMENT_LINE.sub("", script)
    script = _TRAILING_COMMENT.sub("", script)
    script = _ONE_LINE_BLOCK.sub("", script)
    return _INDENT.sub("", script)
