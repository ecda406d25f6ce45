"""No secret in any log line: patient, drop-in, invitation and embed tokens are masked.

A token in a URL is the whole credential, and log lines travel further than Redis does
(files, collectors, support tickets): a 500's `log.exception("... %s", request.path)` put a
patient's join link in the error log. Rather than trusting every call site, `install()`
wraps the process's log record factory, so every record, from this code, aiohttp's access
and server loggers or any library, is masked when it is made: its message, and the text of
its traceback. Records are masked whichever handler or formatter prints them later.

Masked: the segment after `/j/`, `/d/`, `/i/` and `/embed/` (also percent-encoded, as in
`next=%2Fj%2F...`), query parameters that carry a secret (`token=`, `resume=`, ...), and the
same names as JSON fields (`"link": "..."`, as in a signalling hello).
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

MASK = "…"
_TOKEN_PATH = re.compile(r"(/|%2[fF])(j|d|i|embed)(/|%2[fF])[^/\s?#\"'&%<>\\]+")
_SECRET_NAMES = "token|link|resume|invitation|secret|password|key|api_key|access_token"
_SECRET_PARAM = re.compile(rf"([?&;](?:{_SECRET_NAMES})=)[^&;\s#\"']+", re.IGNORECASE)
_SECRET_FIELD = re.compile(rf"(\"(?:{_SECRET_NAMES})\"\s*:\s*\")[^\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every token it may hold replaced by `…`."""
    text = _TOKEN_PATH.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{MASK}", text)
    text = _SECRET_PARAM.sub(lambda m: m[1] + MASK, text)
    return _SECRET_FIELD.sub(lambda m: m[1] + MASK, text)


def redact_record(record: logging.LogRecord) -> None:
    """Mask the message and any traceback of one record, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to the handler to report
        return
    masked = redact(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Mask every log record this process makes from now on; installing twice is a no-op."""
    made = logging.getLogRecordFactory()
    if getattr(made, "redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = made(*args, **kwargs)
        redact_record(record)
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
