"""Syslog transport framing: TCP with LF framing or RFC 6587 octet counting (chosen per connection), UDP.

Decoders turn received bytes into whole lines ready to spool (each ending in `\\n`) plus malformed frames
with a reason. LF-framed data is handled a chunk at a time without a per-line loop; octet-counted frames
need one step per frame. A newline inside an octet-counted or UDP message is escaped as `#012` (what
rsyslog does) because the spool is line-based.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MALFORMED_REASONS = {
    "oversized_frame": "a frame is longer than [syslog] max_frame_bytes (raw cut to 4 KiB)",
    "bad_octet_count": "an octet-counted frame does not start with `LEN SP` (the connection is closed)",
    "truncated_frame": "the connection closed in the middle of an octet-counted frame",
    "empty_frame": "a UDP datagram or frame with no content",
}
_KEEP = 4096
_HOST_5424 = re.compile(rb"^<\d{1,3}>1 \S+ (\S+) ")
_HOST_3164 = re.compile(rb"^<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) ")


def header_hostname(line: bytes) -> str | None:
    """The HOSTNAME of an RFC 5424 or RFC 3164 header, if the line has one."""
    m = _HOST_5424.match(line) or _HOST_3164.match(line)
    if not m or m.group(1) == b"-":
        return None
    return m.group(1).decode("utf-8", errors="replace")


@dataclass
class Decoded:
    """Output of one feed: whole lines (newline-terminated), their count, and malformed frames."""

    data: bytes = b""
    lines: int = 0
    malformed: list[tuple[str, bytes]] = field(default_factory=list)
    close: bool = False


def _one_line(msg: bytes) -> bytes:
    if msg.endswith(b"\n"):
        msg = msg[:-1]
    return msg.replace(b"\n", b"#012") + b"\n"


_COUNTED = re.compile(rb"^(\d{1,7}) <")


def decode_datagram(payload: bytes, max_frame: int) -> Decoded:
    """One UDP datagram is one message (RFC 5426); an octet-count prefix (util-linux `logger`) is dropped."""
    body = payload.rstrip(b"\r\n")
    m = _COUNTED.match(body)
    if m and int(m.group(1)) == len(body) - len(m.group(1)) - 1:
        body = body[len(m.group(1)) + 1 :]
    if not body.strip():
        return Decoded(malformed=[("empty_frame", payload[:_KEEP])])
    if len(body) > max_frame:
        return Decoded(malformed=[("oversized_frame", body[:_KEEP])])
    return Decoded(data=_one_line(body), lines=1)


class StreamDecoder:
    """Per-connection TCP decoder; the first byte decides: a digit means octet counting, else LF."""

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self.mode: str | None = None
        self.buf = bytearray()
        self.discarding = False

    def feed(self, data: bytes) -> Decoded:
        """Decode more bytes from the connection."""
        if self.mode is None:
            if not data:
                return Decoded()
            self.mode = "octet" if data[:1].isdigit() else "lf"
        return self._octets(data) if self.mode == "octet" else self._lf(data)

    def _lf(self, data: bytes) -> Decoded:
        out = Decoded()
        if self.discarding:
            nl = data.find(b"\n")
            if nl < 0:
                return out
            data, self.discarding = data[nl + 1 :], False
        self.buf += data
        cut = self.buf.rfind(b"\n")
        if cut >= 0:
            out.data = bytes(self.buf[: cut + 1])
            del self.buf[: cut + 1]
            if len(out.data) > self.max_frame:  # only then can one line inside be too long
                self._drop_oversized(out)
            out.lines = out.data.count(b"\n")
        if len(self.buf) > self.max_frame:
            out.malformed.append(("oversized_frame", bytes(self.buf[:_KEEP])))
            self.buf.clear()
            self.discarding = True
        return out

    def _drop_oversized(self, out: Decoded) -> None:
        lines = out.data[:-1].split(b"\n")
        keep = []
        for line in lines:
            if len(line) > self.max_frame:
                out.malformed.append(("oversized_frame", line[:_KEEP]))
            else:
                keep.append(line)
        out.data = b"\n".join(keep) + b"\n" if keep else b""

    def _octets(self, data: bytes) -> Decoded:
        self.buf += data
        parts: list[bytes] = []
        out = Decoded()
        pos = 0
        buf = self.buf
        while True:
            sp = buf.find(b" ", pos, pos + 12)
            if sp < 0:
                if len(buf) - pos >= 12 or (len(buf) > pos and not bytes(buf[pos:]).isdigit()):
                    out.malformed.append(("bad_octet_count", bytes(buf[pos : pos + _KEEP])))
                    out.close = True
                    pos = len(buf)
                break
            count = bytes(buf[pos:sp])
            if not count.isdigit():
                out.malformed.append(("bad_octet_count", bytes(buf[pos : pos + _KEEP])))
                out.close = True
                pos = len(buf)
                break
            n = int(count)
            if n > self.max_frame:
                out.malformed.append(("oversized_frame", bytes(buf[sp + 1 : sp + 1 + _KEEP])))
                out.close = True  # cannot skip safely without reading n bytes of junk; the sender reconnects
                pos = len(buf)
                break
            if len(buf) < sp + 1 + n:
                break
            msg = bytes(buf[sp + 1 : sp + 1 + n])
            pos = sp + 1 + n
            # Some senders add a trailer LF after each counted frame: tolerate it.
            while pos < len(buf) and buf[pos] in (10, 13):
                pos += 1
            if not msg.strip():
                out.malformed.append(("empty_frame", msg))
                continue
            parts.append(_one_line(msg))
        del self.buf[:pos]
        out.data = b"".join(parts)
        out.lines = len(parts)
        return out

    def finish(self) -> Decoded:
        """The connection closed: a final LF-less line is complete; a partial counted frame is not."""
        rest, self.buf = bytes(self.buf), bytearray()
        if not rest.strip() or self.discarding:
            return Decoded()
        if self.mode == "octet":
            return Decoded(malformed=[("truncated_frame", rest[:_KEEP])])
        return Decoded(data=rest.rstrip(b"\r") + b"\n", lines=1)
