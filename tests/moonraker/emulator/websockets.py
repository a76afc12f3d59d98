"""Moonraker's websocket: RFC 6455 framing, connections, subscriptions and notifications.

A connection that failed authentication on the upgrade stays open but
needs `server.connection.identify` with an `access_token` or `api_key`
before any method that requires authorization; it receives no
notifications until then. `printer.objects.subscribe` answers with a full
snapshot; afterwards `notify_status_update` carries only changed fields
every 250 ms. Subscriptions end when Klippy disconnects.
"""

import base64
import hashlib
import itertools
import json
import queue
import struct
import threading

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OPCODE_CONTINUATION, _OPCODE_TEXT, _OPCODE_BINARY = 0x0, 0x1, 0x2
_OPCODE_CLOSE, _OPCODE_PING, _OPCODE_PONG = 0x8, 0x9, 0xA
_connection_ids = itertools.count(1)


def accept_key(client_key):
    """Return the Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1((client_key + _GUID).encode()).digest()
    return base64.b64encode(digest).decode()


def encode_frame(opcode, payload):
    """Return one unmasked server frame (FIN set)."""
    header = bytes([0x80 | opcode])
    length = len(payload)
    if length < 126:
        header += bytes([length])
    elif length < 65536:
        header += bytes([126]) + struct.pack("!H", length)
    else:
        header += bytes([127]) + struct.pack("!Q", length)
    return header + payload


def _read_exact(reader, count):
    data = b""
    while len(data) < count:
        chunk = reader.read(count - len(data))
        if not chunk:
            raise ConnectionError("websocket closed")
        data += chunk
    return data


def read_frame(reader):
    """Read one frame; return (fin, opcode, payload) with the client's mask removed."""
    first, second = _read_exact(reader, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", _read_exact(reader, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _read_exact(reader, 8))[0]
    mask = _read_exact(reader, 4) if second & 0x80 else None
    payload = _read_exact(reader, length)
    if mask is not None:
        payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bool(first & 0x80), first & 0x0F, payload


class WebSocketConnection:
    """One websocket client: its identity, authentication, subscription and outgoing queue."""

    def __init__(self, reader, writer, user, ip):
        self.uid = next(_connection_ids)
        self.reader = reader
        self.writer = writer
        self.user = user
        self.need_auth = user is None
        self.ip = ip
        self.identified = False
        self.client_data = {"name": "unknown", "version": "", "type": "", "url": ""}
        self.subscription = None
        self.last_status = {}
        self._outgoing = queue.Queue()
        self._writer_thread = threading.Thread(target=self._write_loop, name=f"websocket-{self.uid}",
                                               daemon=True)

    def start_writing(self):
        """Start sending queued messages (after the upgrade answer has been written)."""
        self._writer_thread.start()

    def send(self, message):
        """Queue a JSON-RPC message (dict or text) for the client."""
        text = message if isinstance(message, str) else json.dumps(message)
        self._outgoing.put((_OPCODE_TEXT, text.encode()))

    def _write_loop(self):
        while True:
            item = self._outgoing.get()
            if item is None:
                return
            try:
                self.writer.write(encode_frame(*item))
                self.writer.flush()
            except OSError:
                return

    def serve(self, on_message):
        """Read messages until the client closes; pass each text message to `on_message`."""
        fragments = b""
        try:
            while True:
                fin, opcode, payload = read_frame(self.reader)
                if opcode == _OPCODE_CLOSE:
                    self._outgoing.put((_OPCODE_CLOSE, payload[:2]))
                    return
                if opcode == _OPCODE_PING:
                    self._outgoing.put((_OPCODE_PONG, payload))
                    continue
                if opcode in (_OPCODE_TEXT, _OPCODE_BINARY, _OPCODE_CONTINUATION):
                    fragments += payload
                    if fin:
                        message, fragments = fragments.decode(errors="replace"), b""
                        on_message(message)
        except (ConnectionError, OSError, ValueError):
            return

    def close(self):
        """Stop the writer after sending a close frame."""
        self._outgoing.put((_OPCODE_CLOSE, struct.pack("!H", 1001)))
        self._outgoing.put(None)


class WebsocketManager:
    """All websocket connections: notifications, agents and status subscriptions."""

    def __init__(self):
        self.connections = {}
        self.agents = {}

    def add(self, connection):
        """Register a new connection."""
        self.connections[connection.uid] = connection

    def remove(self, connection):
        """Forget a closed connection (and its agent registration)."""
        self.connections.pop(connection.uid, None)
        if self.agents.get(connection.client_data["name"]) is connection:
            del self.agents[connection.client_data["name"]]

    def notify(self, name, params=None):
        """Send `notify_NAME` to every authenticated connection."""
        message = {"jsonrpc": "2.0", "method": "notify_" + name}
        if params:
            message["params"] = params
        for connection in list(self.connections.values()):
            if not connection.need_auth:
                connection.send(message)

    def drop_subscriptions(self):
        """Klippy disconnected: every subscription ends."""
        for connection in self.connections.values():
            connection.subscription = None
            connection.last_status = {}

    def subscribe(self, connection, objects, snapshot):
        """Replace the connection's subscription; `snapshot` is the query answer sent back."""
        connection.subscription = dict(objects) if objects else None
        connection.last_status = json.loads(json.dumps(snapshot["status"]))
        return snapshot

    def push_status(self, query):
        """Send notify_status_update with the fields that changed since the last update.

        `query(objects)` returns an objects/query answer for the subscription.
        """
        for connection in list(self.connections.values()):
            if connection.subscription is None:
                continue
            answer = query(connection.subscription)
            changes = {}
            for name, values in answer["status"].items():
                last = connection.last_status.setdefault(name, {})
                changed = {key: value for key, value in values.items() if last.get(key) != value}
                if changed:
                    changes[name] = changed
                    last.update(json.loads(json.dumps(changed)))
            if changes:
                connection.send({"jsonrpc": "2.0", "method": "notify_status_update",
                                 "params": [changes, answer["eventtime"]]})
