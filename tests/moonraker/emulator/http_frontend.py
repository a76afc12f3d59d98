"""HTTP front end: the wire protocol of the emulated Moonraker.

Routes: `/_emulator/control` and `/_emulator/state` (test control, no
authorization), `/websocket` (upgrade), `/server/files/upload`
(multipart), `/server/files/ROOT/PATH` (download, delete),
`/server/jsonrpc`, and every API endpoint. An upload larger than
`[server] max_upload_size` is refused before its body is used, with a bare
`HTTP/1.1 400 Bad Request` and no body, and the connection is closed.
`Listeners` owns the listening sockets and can stop accepting connections
for a while (the `refuse_connections` fault).
"""

import email.message
import json
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .api import ApiError
from .server import ControlError, Response, RpcTransport
from .websockets import WebSocketConnection, accept_key

_FILE_ROUTE = re.compile(r"/server/files/(gcodes|config|logs)/(.+)$")
_NO_AUTH_EXTENSIONS = (".png", ".jpg")


def parse_multipart(content_type, body):
    """Return {field: (filename or None, bytes)} from a multipart/form-data body."""
    header = email.message.Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not boundary:
        raise ValueError("not multipart/form-data")
    form = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        part = part[2:] if part.startswith(b"\r\n") else part
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("malformed part")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        part_headers = email.message.Message()
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            name, _, value = line.partition(":")
            if value:
                part_headers[name.strip()] = value.strip()
        name = part_headers.get_param("name", header="content-disposition")
        filename = part_headers.get_filename()
        if name:
            form[str(name)] = (filename, content)
    return form


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that remembers its open connections so they can be cut."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, moonraker, scheme):
        self.moonraker = moonraker
        self.scheme = scheme
        self.open_sockets = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def close_open_sockets(self):
        """Cut every open client connection."""
        with self.sockets_lock:
            for client in list(self.open_sockets):
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class RequestHandler(BaseHTTPRequestHandler):
    """One client connection (HTTP/1.1 keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "TornadoServer/6.4"

    def version_string(self):
        """Return the Server header value."""
        return self.server_version

    def setup(self):
        """Register the connection (and finish a TLS handshake) before reading requests."""
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.request)
        if self.server.scheme == "https":
            self.request.settimeout(10.0)
            self.request.do_handshake()
            self.request.settimeout(None)

    def finish(self):
        """Forget the connection."""
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.request)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by BaseHTTPRequestHandler
        """Stay quiet: the emulator's stdout carries only the readiness line."""

    def do_GET(self):  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        """Serve a GET request."""
        self._handle()

    def do_POST(self):  # noqa: N802
        """Serve a POST request."""
        self._handle()

    def do_DELETE(self):  # noqa: N802
        """Serve a DELETE request."""
        self._handle()

    def do_PUT(self):  # noqa: N802
        """Serve a PUT request (Moonraker has none: 405 or 404)."""
        self._handle()

    # ------------------------------------------------------------------ plumbing

    @property
    def moonraker(self):
        """The emulated Moonraker behind this connection."""
        return self.server.moonraker

    def _base_url(self):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        return f"{self.server.scheme}://{host}"

    def _read_body(self, limit=None):
        """Read the request body (Content-Length or chunked); return None when it exceeds `limit`."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return body if limit is None or len(body) <= limit else None
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if limit is not None and length > limit:
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response):
        self.send_response(response.status, response.reason)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)
        self._last_status = response.status

    def _send_json(self, status, payload):
        self._send(Response.json(status, payload))

    def _handle(self):
        self._last_status = None
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query_pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        if path.startswith("/_emulator/"):
            self._control(path)
            return
        delay = self.moonraker.delay_for(self.command, path)
        if delay:
            time.sleep(delay)
        try:
            self._route(path, query_pairs)
        finally:
            self.moonraker.records.add("http_requests", {"method": self.command, "path": path,
                                                         "status": self._last_status})

    def _route(self, path, query_pairs):
        ip = self.client_address[0]
        query = dict(query_pairs)
        if path == "/websocket":
            self._websocket(query, ip)
            return
        if path == "/server/files/upload":
            self._upload(query, ip)
            return
        body = self._read_body()
        if path == "/server/jsonrpc":
            self._send(self._jsonrpc(query, ip, body))
            return
        file_route = _FILE_ROUTE.match(path)
        if file_route and self.moonraker.find_endpoint(path) is None:
            root, file_path = file_route.groups()
            needs_auth = not (self.command == "GET" and file_path.lower().endswith(_NO_AUTH_EXTENSIONS))
            try:
                self.moonraker.authenticate(self.headers, query, ip, needs_auth)
            except ApiError as error:
                self._send(Response.error(error))
                return
            self._send(self.moonraker.file_request(self.command, root, file_path))
            return
        self._send(self.moonraker.handle_http(self.command, path, query_pairs, self.headers, body, ip))

    # ------------------------------------------------------------------ special routes

    def _control(self, path):
        body = self._read_body()
        if path == "/_emulator/state" and self.command == "GET":
            self._send_json(200, self.moonraker.emulator_state())
        elif path == "/_emulator/control" and self.command == "POST":
            try:
                self.moonraker.control(json.loads(body or b"null"))
            except ValueError as error:
                self._send_json(400, {"error": f"invalid JSON: {error}"})
            except ControlError as error:
                self._send_json(error.status, {"error": str(error)})
            else:
                self._send_json(200, {"result": "ok"})
        else:
            self._send_json(404, {"error": "unknown emulator route"})

    def _jsonrpc(self, query, ip, body):
        try:
            user = self.moonraker.authenticate(self.headers, query, ip, False)
            if self.command != "POST":
                raise ApiError.http(405)
            if not self.headers.get("Content-Type", "").strip().startswith("application/json"):
                raise ApiError.http(400, "Invalid content type, application/json required")
        except ApiError as error:
            return Response.error(error)
        answer = self.moonraker.dispatch_jsonrpc(body, RpcTransport("HTTP", user, ip))
        return Response(200, (answer or "").encode())

    def _upload(self, query, ip):
        try:
            user = self.moonraker.authenticate(self.headers, query, ip, True)
        except ApiError as error:
            self._read_body()
            self._send(Response.error(error))
            return
        if self.command != "POST":
            self._read_body()
            self._send(Response.error(ApiError.http(405)))
            return
        body = self._read_body(limit=self.moonraker.max_upload_size)
        if body is None:
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            self.close_connection = True
            self._last_status = 400
            return
        try:
            form = parse_multipart(self.headers.get("Content-Type", ""), body)
        except ValueError:
            self._send(Response.error(ApiError.http(500, "File Upload Parsing Failed")))
            return
        self._send(self.moonraker.upload(form, user, self._base_url()))

    def _websocket(self, query, ip):
        self._read_body()
        key = self.headers.get("Sec-WebSocket-Key")
        if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self._send(Response.error(ApiError.http(400, 'Can "Upgrade" only to "WebSocket".')))
            return
        try:
            user = self.moonraker.authenticate(self.headers, query, ip, True)
        except ApiError:
            user = None
        connection = WebSocketConnection(self.rfile, self.wfile, user, ip)
        moonraker = self.moonraker
        with moonraker.lock:
            moonraker.ws.add(connection)
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept_key(key))
        self.end_headers()
        self._last_status = 101
        self.close_connection = True
        connection.start_writing()

        def on_message(text):
            """Answer one message on its own thread, so a slow call does not block the next."""
            def answer():
                """Dispatch the message and queue the reply."""
                reply = moonraker.dispatch_jsonrpc(text, RpcTransport("WEBSOCKET", connection.user, ip,
                                                                      connection))
                if reply:
                    connection.send(reply)
            threading.Thread(target=answer, name=f"websocket-{connection.uid}-request", daemon=True).start()

        try:
            connection.serve(on_message)
        finally:
            with moonraker.lock:
                moonraker.ws.remove(connection)
            connection.close()


class Listeners:
    """The listening sockets: plain HTTP on `port`, and HTTPS on `ssl_port` when a certificate is given."""

    def __init__(self, moonraker, host, port, ssl_port=None, ssl_context=None):
        self.moonraker = moonraker
        self.host = host
        self.port = port
        self.ssl_port = ssl_port
        self.ssl_context = ssl_context
        self.servers = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def start(self):
        """Bind and serve; the first start fixes the ports chosen for port 0."""
        with self._lock:
            plain = EmulatorHTTPServer((self.host, self.port), self.moonraker, "http")
            self.port = plain.server_address[1]
            servers = [plain]
            if self.ssl_context is not None:
                secure = EmulatorHTTPServer((self.host, self.ssl_port or 0), self.moonraker, "https")
                secure.socket = self.ssl_context.wrap_socket(secure.socket, server_side=True,
                                                             do_handshake_on_connect=False)
                self.ssl_port = secure.server_address[1]
                servers.append(secure)
            for server in servers:
                threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                 name=f"listener-{server.server_address[1]}", daemon=True).start()
            self.servers = servers

    def _close(self):
        with self._lock:
            for server in self.servers:
                server.shutdown()
                server.server_close()
                server.close_open_sockets()
            self.servers = []

    def stop(self):
        """Stop listening for good and cut open connections."""
        self._stopped.set()
        self._close()

    def refuse(self, seconds):
        """Stop listening (connections are refused) for `seconds`, then listen again on the same ports."""
        def outage():
            """Close the listeners, wait, and listen again unless the emulator stopped."""
            time.sleep(0.05)
            self._close()
            if not self._stopped.wait(seconds):
                self.start()
        threading.Thread(target=outage, name="refuse-connections", daemon=True).start()
