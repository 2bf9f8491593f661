"""The widget's script as served: the source's code line for line, without its comments and indentation."""

from __future__ import annotations

from conversations.widget_script import served_script
from conversations.widget_views import WIDGET_SCRIPT

SOURCE = """/* The header,
 * over several lines. */
(() => {
  "use strict";
  // A comment on a line of its own.
  const server = new URL(tag.src, location.href).origin; // a comment after code
  const socketUrl = `${server.replace(/^http/, "ws")}/ws/widget/`;
  try { saved = JSON.parse(x); } catch (e) { /* no storage */ }
  const css = `.a{color:red}
 .b{color:blue}`;
  const url = "https://example.com/a//b";
})();
"""

SERVED = """(() => {
"use strict";
const server = new URL(tag.src, location.href).origin;
const socketUrl = `${server.replace(/^http/, "ws")}/ws/widget/`;
try { saved = JSON.parse(x); } catch (e) { }
const css = `.a{color:red}
.b{color:blue}`;
const url = "https://example.com/a//b";
})();
"""


def test_comments_and_indentation_are_left_out_and_the_code_kept_as_it_is():
    assert served_script(SOURCE) == SERVED


def test_the_served_widget_has_no_comments_and_keeps_every_line_of_code():
    # given
    source = WIDGET_SCRIPT.read_text(encoding="utf-8")

    # when
    served = served_script(source)

    # then
    assert len(served) < len(source)
    assert "/* " not in served and " // " not in served
    assert not any(line.startswith((" ", "//")) for line in served.splitlines())
    body = source[source.index("*/") + 2 :]
    code_lines = [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("//")]
    assert [line for line in served.splitlines() if line] == [_without_comment(line) for line in code_lines]


def _without_comment(line: str) -> str:
    """Return a line of code as it should be served: without a trailing // comment or a one-line /* */ one."""
    code = line.split(" // ")[0]
    if " /* " in code:
        before, after = code.split(" /* ", 1)
        code = before + after.split(" */", 1)[1]
    return code
