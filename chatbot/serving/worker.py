"""A gunicorn worker whose threads never wait on a client's bytes.

gunicorn.conf.py: worker_class = "chatbot.serving.worker.BufferingThreadWorker"

gunicorn's gthread worker hands a connection to a thread as soon as its
first byte arrives; the thread then reads the rest of the head and the body
with blocking reads, so a few clients that send half a request and wait
hold every thread (and a sync worker, the whole process). This worker keeps
gthread's event loop and thread pool but buffers each request first: a
thread reads only what the socket already holds (non-blocking), and the
connection goes back to the event loop until the request is complete
(chatbot.serving.framing). Only a complete request is parsed and answered,
and only from memory.

Limits, each answered in the API's JSON error shape:
- a request must arrive within `read_seconds` of its first byte (plus one
  second per 100 kB of declared body): 408, connection closed;
- a body larger than the app accepts (CHATBOT_MAX_BODY_BYTES; 4 MB for
  staff uploads under /admin/): 413 at once, before it is read;
- gunicorn's own parse errors (bad request line, 414, 431, bad chunking):
  JSON instead of gunicorn's HTML, logged without the client's address.

Connections are closed without lingering in the event loop (gunicorn's
graceful close waits up to 2 s for the client, in the loop that serves
everybody else).
"""
from __future__ import annotations

import errno
import socket
import time

from gunicorn.workers import gthread

from .framing import BAD_CHUNKS, INCOMPLETE, TOO_LARGE, request_framing
from .responses import raw_error_response, status_for_parse_error

# Read at most this much per turn of a connection, so one fast large upload
# cannot keep a thread busy copying bytes while others wait.
READ_PER_TURN = 1 << 20
# Bytes per second a declared body may take on top of read_seconds: a 2 MB
# staff upload gets 20 s more on a slow line.
BODY_BYTES_PER_SECOND = 100_000
# Answers are small (a few kB of JSON, a 20 kB script): a client that does
# not take them within this time is dropped rather than keeping a thread.
SEND_TIMEOUT_SECONDS = 10.0
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
PARSER_READ_SECONDS = 1.0
STAFF_PREFIX = b"/admin/"
TOO_SLOW = "The request took too long to arrive; please send it again."


class FrontLimits:
    """What the front enforces, read from the served app's settings (defaults without a Flask app)."""

    def __init__(self, app):
        from ..admin.uploads import UPLOAD_BODY_LIMIT  # staff uploads: the largest body any route accepts
        config = getattr(app, "config", {})
        self.read_seconds = float(config.get("CHATBOT_REQUEST_READ_SECONDS", 10.0))
        self.max_body = int(config.get("CHATBOT_MAX_BODY_BYTES", 16_384))
        self.max_staff_body = max(self.max_body, UPLOAD_BODY_LIMIT)

    def body_limit(self, target: bytes) -> int:
        """The largest body buffered for a request target: only the staff pages take uploads,
        so a visitor cannot make the front hold megabytes per connection."""
        return self.max_staff_body if target.startswith(STAFF_PREFIX) else self.max_body


class BufferedConnection(gthread.TConn):
    """A gthread connection with the bytes of a request still arriving."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pending = bytearray()
        self.deadline: float | None = None
        self.sent_continue = False
        self.body_allowance_given = False

    def start_request(self, now: float, read_seconds: float) -> None:
        if self.deadline is None:
            self.deadline = now + read_seconds

    def end_request(self) -> None:
        self.pending = bytearray()
        self.deadline = None
        self.sent_continue = False
        self.body_allowance_given = False

    def close(self, graceful=False):
        close_without_lingering(self.sock)


def close_without_lingering(sock: socket.socket) -> None:
    """Send FIN after the answer, drop what the client already sent (so the kernel
    does not turn the close into a reset), and never wait for the client."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.setblocking(False)
        for _ in range(16):
            if not sock.recv(65536):
                break
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class BufferingThreadWorker(gthread.ThreadWorker):
    """gthread, with each request buffered in full before a thread serves it."""

    _limits: FrontLimits | None = None

    @property
    def limits(self) -> FrontLimits:
        if self._limits is None:
            self._limits = FrontLimits(self.wsgi)
        return self._limits

    def accept(self, listener):
        """As gthread's accept, with a BufferedConnection."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = BufferedConnection(self.cfg, client_sock, client_addr, listener.getsockname())
        self.enqueue_req(conn)

    def handle(self, conn):
        """Serve `conn`'s next request if it has fully arrived; otherwise back to the event loop."""
        if not isinstance(conn, BufferedConnection) or self.cfg.is_ssl:
            return super().handle(conn)
        try:
            conn.init()
            if conn.is_http2:
                return super().handle(conn)
            if not isinstance(conn.parser.unreader.sock, _BoundedReads):
                conn.parser.unreader.sock = _BoundedReads(conn.parser.unreader.sock)
            verdict = self._buffer_request(conn)
        except OSError:
            return False
        if verdict is None:
            return False  # the client closed the connection
        if verdict.state == TOO_LARGE:
            self._refuse(conn, 413, "The request body is too large.")
            return False
        if verdict.state == BAD_CHUNKS:
            self._refuse(conn, 400, "The request body's chunked encoding is malformed.")
            return False
        if verdict.state == INCOMPLETE:
            if conn.deadline is not None and time.monotonic() > conn.deadline:
                self._refuse(conn, 408, TOO_SLOW)
                return False
            if verdict.expects_continue and not conn.sent_continue:
                conn.sent_continue = True
                _send_now(conn.sock, CONTINUE)
            return gthread._DEFER
        # COMPLETE or MALFORMED: gunicorn's parser reads it from memory (and
        # answers a malformed one with its precise error, in handle_error).
        conn.parser.unreader.unread(bytes(conn.pending))
        conn.end_request()
        conn.data_ready = True
        return super().handle(conn)

    def _buffer_request(self, conn: BufferedConnection):
        """Read what the socket holds into conn.pending; the framing verdict, or None at end of stream."""
        limits = self.limits
        conn.pending += conn.parser.unreader.take_buffered()  # pipelined bytes read with the last request
        conn.sock.setblocking(False)
        read = 0
        while read < READ_PER_TURN:
            try:
                chunk = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            if not chunk:
                return None
            conn.pending += chunk
            read += len(chunk)
        if conn.pending:
            conn.start_request(time.monotonic(), limits.read_seconds)
        elif conn.deadline is None:
            # Nothing yet (a new or kept-alive connection): wait in the event loop.
            return _NOTHING_YET
        verdict = request_framing(bytes(conn.pending), limits.body_limit, self._max_head())
        if verdict.state == INCOMPLETE and verdict.body_size and not conn.body_allowance_given:
            conn.deadline += verdict.body_size / BODY_BYTES_PER_SECOND  # a large upload on a slow line
            conn.body_allowance_given = True
        return verdict

    def _max_head(self) -> int:
        cfg = self.cfg
        return cfg.limit_request_line + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4

    def _refuse(self, conn, status: int, message: str) -> None:
        _send_now(conn.sock, raw_error_response(status, message))

    def finish_request(self, conn, fs):
        """As gthread's, then a deferred connection waits at most until its request's deadline."""
        super().finish_request(conn, fs)
        if isinstance(conn, BufferedConnection) and conn in self.pending_conns:
            if conn.deadline is not None:
                conn.timeout = conn.deadline

    def murder_pending(self):
        """Close connections whose request has not arrived in time (408 when one had begun)."""
        now = time.monotonic()
        for conn in [c for c in self.pending_conns if c.timeout <= now]:
            self.pending_conns.remove(conn)
            try:
                self.poller.unregister(conn.sock)
            except (OSError, KeyError, ValueError):
                pass
            self.nr_conns -= 1
            if isinstance(conn, BufferedConnection) and conn.deadline is not None:
                self._refuse(conn, 408, TOO_SLOW)
            conn.close()

    def handle_request(self, req, conn):
        """As gthread's, with a bound on how long writing the answer may take."""
        conn.sock.settimeout(SEND_TIMEOUT_SECONDS)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:
            self.log.info("client did not take its answer within %.0f s; closed", SEND_TIMEOUT_SECONDS)
            return False

    def handle_error(self, req, client, addr, exc):
        """gunicorn's errors in the API's JSON shape; logged by kind, never with the client's address."""
        status, message = status_for_parse_error(exc)
        if status >= 500:
            self.log.exception("error handling a request (%s)", type(exc).__name__)
        else:
            self.log.info("invalid request (%s): answered %d", type(exc).__name__, status)
        try:
            client.settimeout(SEND_TIMEOUT_SECONDS)
            client.sendall(raw_error_response(status, message))
        except OSError:
            self.log.debug("failed to send an error response")


class _BoundedReads:
    """The socket as gunicorn's parser sees it: a read waits at most PARSER_READ_SECONDS.

    The parser only reads complete requests from memory; this bounds the one
    case where it would still ask the socket for more (a request the framing
    scan could not read, handed over for gunicorn to reject)."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def recv(self, size: int) -> bytes:
        self._sock.settimeout(PARSER_READ_SECONDS)
        return self._sock.recv(size)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _NothingYet:
    state = INCOMPLETE
    body_size = 0
    expects_continue = False


_NOTHING_YET = _NothingYet()


def _send_now(sock: socket.socket, data: bytes) -> None:
    """Send a short answer without waiting: it fits in the socket's send buffer, or is dropped."""
    try:
        sock.setblocking(False)
        sock.send(data)
    except OSError:
        pass

