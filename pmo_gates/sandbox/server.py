"""The Jira-compatible sandbox server: loopback only, threaded, started in-process by tests.

Example::

    with SandboxServer(Snapshot.load(sample_portfolio_path()), flavour="cloud",
                       auth=("pmo@example.com", "token"), validate=JiraContract.load()) as sb:
        jira = JIRA(server=sb.url, basic_auth=("pmo@example.com", "token"), max_retries=0)
        ...
        assert sb.contract_violations == []

Serves ``/rest/api/2/...`` and ``/rest/api/3/...`` (``latest`` means 2) from a ``SandboxState``, injects
faults from ``sb.faults``, records every Jira call in ``sb.requests`` and, with ``validate=``, checks every
request and response against the OpenAPI contract into ``sb.contract_violations``. Answers that are a
flavour's deliberate deviation from the Cloud spec are exempt from that check: Cloud's 410 for the removed
``/search``, Data Center's 404 for Cloud-only endpoints, and injected faults.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import ipaddress
import json
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pmo_gates.sandbox.admin import PREFIX as ADMIN_PREFIX
from pmo_gates.sandbox.admin import handle_admin
from pmo_gates.sandbox.api import ApiContext, Call, JiraError, Reply, SandboxLimits, build_router
from pmo_gates.sandbox.dc_view import as_data_center
from pmo_gates.sandbox.faults import FaultSet
from pmo_gates.sandbox.field_input import FieldErrors
from pmo_gates.sandbox.request_log import RequestLog, RequestRecord
from pmo_gates.sandbox.snapshot import Snapshot
from pmo_gates.sandbox.state import IssueNotFound, SandboxState

if TYPE_CHECKING:  # openapi-core is only needed when validating
    from pmo_gates.sandbox.contract import JiraContract

log = logging.getLogger(__name__)

_API_PATH = re.compile(r"^/rest/api/(2|3|latest)(/.*)$")
_ANONYMOUS = re.compile(r"^/rest/api/(2|3|latest)/serverInfo/?$")
_UNAUTHORIZED = "You are not authenticated. Authentication required to perform this operation."


class SandboxServer:
    """A Jira Cloud or Data Center look-alike on 127.0.0.1 serving a snapshot."""

    def __init__(
        self,
        snapshot: Snapshot | str | Path,
        *,
        flavour: str = "cloud",
        host: str = "127.0.0.1",
        port: int = 0,
        auth: tuple[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        validate: JiraContract | None = None,
        limits: SandboxLimits | None = None,
        fault_seed: int = 0,
        index_lag: float = 0.0,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the sandbox only listens on loopback addresses, not {host!r}")
        if flavour not in ("cloud", "dc"):
            raise ValueError(f"flavour must be 'cloud' or 'dc', got {flavour!r}")
        if isinstance(snapshot, str | Path):
            snapshot = Snapshot.load(snapshot)
        self.flavour = flavour
        self.host = host
        self._port = port
        self._auth = auth
        self.state = SandboxState(snapshot, flavour=flavour, clock=clock, actor_email=auth[0] if auth else None)
        self.state.index_lag = index_lag  # seconds before a write shows in JQL search (GET /issue: at once)
        self.faults = FaultSet(flavour=flavour, seed=fault_seed)
        self.requests = RequestLog()
        self._busy = threading.Condition()
        self._in_flight = 0
        self.contract = validate
        self.contract_violations: list[str] = []
        self.limits = limits or SandboxLimits()
        self.router = build_router()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running: use it as a context manager or call start()")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1]) if self._httpd else self._port

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._httpd = _HTTPServer((self.host, self._port), _Handler, self, family)
        self.api = ApiContext(self.state, self.flavour, self.limits, self.url)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="pmo-gates-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until interrupted (Ctrl-C), then stop: the foreground mode of ``pmo-gates sandbox``."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def in_flight(self, change: int) -> None:
        with self._busy:
            self._in_flight += change
            self._busy.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being carried out (one a dead client sent is still carried out, as
        Jira does); False if requests were still in flight after ``timeout`` seconds."""
        with self._busy:
            return self._busy.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    def reset(self, *, state: bool = True, faults: bool = True, requests: bool = True) -> None:
        """Back to a fresh sandbox: the snapshot's data, no faults, an empty request log and no violations."""
        if state:
            self.state.reset()
        if faults:
            self.faults.clear()
        if requests:
            self.requests.reset()
            self.contract_violations.clear()

    # -- request handling (called from handler threads) -------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        if self._auth is None:
            return True
        email, token = self._auth
        if not header:
            return False
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "bearer":
            return hmac.compare_digest(credential.strip().encode(), token.encode())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential.strip(), validate=True)
            except ValueError:
                return False
            return hmac.compare_digest(decoded, f"{email}:{token}".encode())
        return False

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> tuple[Reply, str]:
        """Route a Jira REST call; returns the reply and the API version it was served as."""
        found = _API_PATH.match(path)
        if not found:
            return Reply(404, {"errorMessages": [f"null for uri: {path}"], "errors": {}}), "2"
        version = "2" if found.group(1) == "latest" else found.group(1)
        if version == "3" and self.flavour == "dc":  # Data Center has no REST v3 (and no ADF)
            return Reply(404, {"errorMessages": [f"null for uri: {path}"], "errors": {}}, contract_exempt=True), "2"
        body, parse_error = None, None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                parse_error = f"Unexpected character in the JSON request body: {exc}"
        try:
            handler, params = self.router.resolve(method, found.group(2), self.flavour)
            call = Call(self.api, method, found.group(2), version, query, body, raw, params, parse_error)
            reply = handler(call)
            if self.flavour == "dc" and reply.body is not None:
                reply.body = as_data_center(reply.body, self.state.site)
            return reply, version
        except JiraError as exc:
            return exc.reply(), version
        except IssueNotFound:
            message = "Issue does not exist or you do not have permission to see it."
            return Reply(404, {"errorMessages": [message], "errors": {}}), version
        except FieldErrors as exc:
            return Reply(exc.status, exc.body()), version
        except Exception:
            log.exception("sandbox: unexpected error serving %s %s", method, path)
            return Reply(500, {"errorMessages": ["Internal server error"], "errors": {}}), version

    def rewrite_links(self, text: str, version: str) -> str:
        """Point the state's ``self`` links at this server and at the API version of the request."""
        base = self.state.base_url
        ours = self.url
        if base == ours:
            return text
        for root in ("/rest/api/2/", "/rest/api/3/"):
            text = text.replace(base + root, f"{ours}/rest/api/{version}/")
        return text.replace(base, ours)

    def check_contract(self, violations: list[str]) -> None:
        if violations:
            self.contract_violations.extend(violations)
            for violation in violations:
                log.warning("Jira contract violation: %s", violation)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, sandbox: SandboxServer, family: int) -> None:
        self.address_family = family
        self.sandbox = sandbox
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._open_lock:
            if open_:
                self._open.add(connection)
            else:
                self._open.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (read timeout) or died (kill -9) resets its connection: not a sandbox error.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End kept-alive connections, so no client keeps talking to a stopped sandbox."""
        with self._open_lock:
            connections, self._open = list(self._open), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pmo-gates-sandbox"
    sys_version = ""
    wbufsize = -1  # headers and body leave in one write (handle_one_request flushes)
    timeout = 120  # an idle kept-alive connection is closed after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        with contextlib.suppress(OSError):  # the client may be gone already
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are recorded in sb.requests; stderr access logs would only add noise

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        sb = self.server.sandbox
        sb.in_flight(+1)
        try:
            self._serve(sb)
        finally:
            sb.in_flight(-1)

    def _serve(self, sb: SandboxServer) -> None:
        began, arrived = time.perf_counter(), time.time()
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        method = self.command
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            self._send(self._admin(sb, method, path, query, raw), None)
            return
        request_headers = dict(self.headers.items())
        if sb.contract is not None:
            sb.check_contract(
                _safely(lambda: sb.contract.validate_request(method, self.path, request_headers, raw or None))
            )
        reply, version = self._answer(sb, method, path, query, raw)
        data = b"" if reply is None else self._encode(reply, version)
        if reply is not None and sb.contract is not None and not reply.contract_exempt:
            response_headers = {"Content-Type": "application/json;charset=UTF-8"} if data else {}
            sb.check_contract(
                _safely(
                    lambda: sb.contract.validate_response(
                        method,
                        self.path,
                        raw or None,
                        reply.status,
                        response_headers,
                        data or None,
                        request_headers=request_headers,
                    )
                )
            )
        # Recorded before answering, so a client that got its answer also finds its call in sb.requests.
        status = None if reply is None else reply.status
        sb.requests.append(RequestRecord(method, path, query, status, time.perf_counter() - began, arrived))
        if reply is None:
            self._drop()
        else:
            self._write(reply, data)

    def _admin(self, sb: SandboxServer, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> Reply:
        """The ``/_sandbox`` admin API: same credentials as Jira's, never faulted, recorded or checked."""
        if not sb.authorized(self.headers.get("Authorization")):
            return Reply(401, {"errorMessages": [_UNAUTHORIZED], "errors": {}})
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            return Reply(400, {"errorMessages": ["The request body is not JSON."], "errors": {}})
        return handle_admin(sb, method, path, query, body)

    def _answer(
        self, sb: SandboxServer, method: str, path: str, query: dict[str, list[str]], raw: bytes
    ) -> tuple[Reply | None, str]:
        """The reply to send, or None to drop the connection without one."""
        fault = sb.faults.decide(method, path)
        # after=True: Jira acts, then the answer is slow, lost or replaced (a gateway timing out behind it).
        acted = self._answer_unfaulted(sb, method, path, query, raw) if fault is not None and fault.after else None
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return None, "2"
            if fault.status is not None:
                if fault.raw_body is not None:
                    raw_reply = Reply(fault.status, None, dict(fault.headers), contract_exempt=True)
                    raw_reply.raw, raw_reply.content_type = fault.raw_body, fault.content_type
                    return raw_reply, "2"
                return Reply(fault.status, fault.body, dict(fault.headers), contract_exempt=True), "2"
        if acted is not None:
            return acted
        return self._answer_unfaulted(sb, method, path, query, raw)

    def _answer_unfaulted(
        self, sb: SandboxServer, method: str, path: str, query: dict[str, list[str]], raw: bytes
    ) -> tuple[Reply | None, str]:
        if not sb.authorized(self.headers.get("Authorization")) and not _anonymous_allowed(method, path):
            headers = {"WWW-Authenticate": 'Basic realm="pmo-gates sandbox"'}
            return Reply(401, {"errorMessages": [_UNAUTHORIZED], "errors": {}}, headers), "2"
        return sb.dispatch(method, path, query, raw)

    def _send(self, reply: Reply, version: str | None) -> None:
        self._write(reply, self._encode(reply, version))

    def _encode(self, reply: Reply, version: str | None) -> bytes:
        if reply.raw is not None:
            return reply.raw.encode("utf-8")
        if reply.body is None:
            return b""
        text = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":"))
        if version is not None:
            text = self.server.sandbox.rewrite_links(text, version)
        return text.encode("utf-8")

    def _write(self, reply: Reply, data: bytes) -> None:
        self.send_response(reply.status)
        if data:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close the connection without answering (a dropped response, as a proxy timeout looks)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _anonymous_allowed(method: str, path: str) -> bool:
    """What Jira answers without credentials: ``GET /serverInfo`` (clients probe it before logging in)."""
    return method == "GET" and _ANONYMOUS.match(path) is not None


def _safely(check: Callable[[], list[str]]) -> list[str]:
    """A validator crash is reported as a violation rather than breaking the response."""
    try:
        return check()
    except Exception as exc:
        log.exception("sandbox: contract validation failed")
        return [f"contract validation failed: {type(exc).__name__}: {exc}"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
