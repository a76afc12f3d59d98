"""Test harness: run the Moonraker emulator as a subprocess and talk to it over real HTTP and websockets.

Every `Emulator` binds a free loopback port (--port 0 and the readiness
line), is stopped by PID with SIGTERM, and cleans up its temporary files.
Emulators share a private bytecode cache in a temporary folder (removed at
exit), so each start does not recompile the package.
"""

import atexit
import base64
import hashlib
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moonraker_emulator.py")
READY_PREFIX = "moonraker-emulator listening on "
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_BYTECODE_CACHE = tempfile.mkdtemp(prefix="moonraker-emulator-bytecode-")
atexit.register(shutil.rmtree, _BYTECODE_CACHE, True)


class Reply:
    """An HTTP answer: status, reason phrase, headers and body (parsed as JSON when possible)."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def result(self):
        """The `result` member of a successful JSON answer."""
        return self.json["result"]

    @property
    def error(self):
        """The `error` member of an error answer."""
        return self.json["error"]


def multipart(fields):
    """Encode [(name, filename or None, bytes)] as multipart/form-data; return (content type, body)."""
    boundary = "emulator-test-" + os.urandom(8).hex()
    body = b""
    for name, filename, content in fields:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


class WebSocketClient:
    """A minimal RFC 6455 client: masked text frames out, JSON messages in."""

    def __init__(self, port, headers=None, query="", timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET /websocket{query} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("no upgrade answer")
            response += chunk
        self.status_line = response.split(b"\r\n", 1)[0].decode()
        expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                    .digest()).decode()
        if expected.encode() not in response:
            raise ConnectionError("bad Sec-WebSocket-Accept")
        self.next_id = 1
        self.pending = []

    def _read_exact(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def send_json(self, message):
        """Send one masked text frame holding `message` as JSON."""
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self, timeout=5.0):
        """Return the next JSON message from the server."""
        self.sock.settimeout(timeout)
        first, second = self._read_exact(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read_exact(8))[0]
        payload = self._read_exact(length)
        if first & 0x0F == 0x8:
            raise ConnectionError("server closed the websocket")
        return json.loads(payload)

    def call(self, method, params=None, timeout=5.0):
        """Send a JSON-RPC request and return its answer; notifications meanwhile are kept in `pending`."""
        request_id = self.next_id
        self.next_id += 1
        message = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        self.send_json(message)
        deadline = time.monotonic() + timeout
        while True:
            answer = self.receive(max(0.01, deadline - time.monotonic()))
            if answer.get("id") == request_id:
                return answer
            self.pending.append(answer)

    def wait_notification(self, method, timeout=5.0, predicate=None):
        """Return the first notification `method` (already received or arriving within `timeout`)."""
        for index, message in enumerate(self.pending):
            if message.get("method") == method and (predicate is None or predicate(message)):
                return self.pending.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method}")
            try:
                message = self.receive(remaining)
            except socket.timeout as error:
                raise TimeoutError(f"no {method}") from error
            if message.get("method") == method and (predicate is None or predicate(message)):
                return message
            self.pending.append(message)

    def close(self):
        """Close the socket."""
        self.sock.close()


class Emulator:
    """One emulator subprocess with helpers for its API and its control endpoint."""

    def __init__(self, scenario=None, extra_args=()):
        """Start the emulator (python3 -S: standard library only, faster start) and wait for its readiness line."""
        self.tempdir = tempfile.TemporaryDirectory(prefix="moonraker-emulator-test-")
        self.key_file = os.path.join(self.tempdir.name, "api.key")
        arguments = [sys.executable, "-S", EMULATOR, "--port", "0", "--api-key-file", self.key_file]
        if scenario is not None:
            scenario_file = os.path.join(self.tempdir.name, "scenario.json")
            with open(scenario_file, "w", encoding="utf-8") as handle:
                json.dump(scenario, handle)
            arguments += ["--scenario", scenario_file]
        arguments += list(extra_args)
        environment = dict(os.environ, PYTHONPYCACHEPREFIX=_BYTECODE_CACHE)
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=environment)
        self.port = self._wait_ready()
        with open(self.key_file, encoding="utf-8") as handle:
            self.api_key = handle.read().strip()

    def _wait_ready(self, timeout=10.0):
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            self.stop()
            raise RuntimeError("emulator did not become ready")
        line = self.process.stdout.readline().strip()
        if not line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"unexpected emulator output: {line!r}")
        return int(line.rsplit(":", 1)[1])

    def stop(self):
        """SIGTERM the emulator by PID, wait for it, and return its exit code."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()
        self.tempdir.cleanup()
        return self.process.returncode

    @property
    def base_url(self):
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None, auth=True, timeout=10.0, json_body=None):
        """Send one HTTP request; return a Reply for any status."""
        headers = dict(headers or {})
        if auth:
            headers.setdefault("X-Api-Key", self.api_key)
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers, method=method)
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                return Reply(answer.status, answer.reason, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.reason, error.headers, error.read())

    def get(self, path, **options):
        """GET `path`."""
        return self.request("GET", path, **options)

    def post(self, path, **options):
        """POST `path` (empty body unless given)."""
        options.setdefault("body", b"")
        return self.request("POST", path, **options)

    def delete(self, path, **options):
        """DELETE `path`."""
        return self.request("DELETE", path, **options)

    def query(self, *objects):
        """Return the `status` of GET /printer/objects/query for the given objects (all fields)."""
        reply = self.get("/printer/objects/query?" + "&".join(urllib.parse.quote(name) for name in objects))
        return reply.result["status"]

    def print_stats(self):
        """Return print_stats."""
        return self.query("print_stats")["print_stats"]

    def upload(self, filename, data, path=None, checksum=None, start=None, root=None, auth=True, headers=None):
        """POST /server/files/upload with the given form fields; return the Reply."""
        fields = [("file", filename, data)]
        for name, value in (("root", root), ("path", path), ("checksum", checksum), ("print", start)):
            if value is not None:
                fields.append((name, None, value.encode()))
        content_type, body = multipart(fields)
        all_headers = {"Content-Type": content_type}
        all_headers.update(headers or {})
        return self.post("/server/files/upload", body=body, headers=all_headers, auth=auth)

    def upload_and_start(self, filename, text):
        """Upload G-code to gcodes/FILENAME and start printing it (asserting both succeed)."""
        reply = self.upload(filename, text.encode())
        if reply.status != 201:
            raise AssertionError(f"upload failed: {reply.status} {reply.body!r}")
        start = self.post("/printer/print/start?filename=" + urllib.parse.quote(filename))
        if start.status != 200:
            raise AssertionError(f"start failed: {start.status} {start.body!r}")
        return start

    def jsonrpc(self, method, params=None, request_id=1, auth=True):
        """POST /server/jsonrpc; return the Reply (its JSON is the JSON-RPC answer)."""
        message = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        return self.post("/server/jsonrpc", json_body=message, auth=auth)

    def gcode(self, script):
        """POST /printer/gcode/script; return the Reply."""
        return self.post("/printer/gcode/script", json_body={"script": script})

    def control(self, action, **parameters):
        """POST /_emulator/control; return the Reply."""
        parameters["action"] = action
        return self.post("/_emulator/control", json_body=parameters, auth=False)

    def state(self):
        """GET /_emulator/state."""
        return self.get("/_emulator/state", auth=False).json

    def websocket(self, headers=None, query=""):
        """Open a websocket to /websocket."""
        return WebSocketClient(self.port, headers=headers, query=query)

    @staticmethod
    def wait_for(predicate, timeout=5.0, interval=0.02):
        """Poll `predicate()` until it returns a true value (returned) or fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            time.sleep(interval)

    def wait_state(self, state, timeout=5.0):
        """Wait until print_stats.state is `state`; return print_stats."""
        return self.wait_for(lambda: (lambda stats: stats if stats["state"] == state else None)(
            self.print_stats()), timeout)
