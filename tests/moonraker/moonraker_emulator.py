#!/usr/bin/env python3
"""Moonraker emulator for tests: a Klipper printer behind Moonraker's HTTP, JSON-RPC and websocket API.

Usage:
    python3 moonraker_emulator.py --port PORT [--host 127.0.0.1] [--api-key-file FILE]
                                  [--scenario FILE.json] [--certs-dir DIR --ssl-port PORT]

Binds to loopback only. When ready it prints exactly one line,
`moonraker-emulator listening on 127.0.0.1:PORT`, to stdout (PORT is the
bound port, useful with --port 0). SIGTERM or SIGINT stop it cleanly.
The API key is read from --api-key-file when that file holds one;
otherwise a new 32-hex key is generated and written there (mode 0600).
See README.md for the scenario format and the control API.
"""

import argparse
import ipaddress
import os
import shutil
import signal
import sys
import tempfile
import threading
import uuid

from emulator.http_frontend import Listeners
from emulator.scenario import ScenarioError, load_scenario
from emulator.server import MoonrakerServer


def loopback_host(host):
    """Return the IPv4 loopback address for `host`, or None when it is not loopback."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return host if address.version == 4 and address.is_loopback else None


def read_or_create_api_key(path):
    """Return the API key stored in `path`, or write a new one there (None: a fresh key, not stored)."""
    if path is None:
        return uuid.uuid4().hex
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            key = handle.read().strip()
        if key:
            return key
    key = uuid.uuid4().hex
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


def tls_context(certs_dir):
    """Return a server TLS context when certs_dir holds moonraker.cert and moonraker.key, else None."""
    if certs_dir is None:
        return None
    certificate = os.path.join(certs_dir, "moonraker.cert")
    key = os.path.join(certs_dir, "moonraker.key")
    if not (os.path.isfile(certificate) and os.path.isfile(key)):
        return None
    import ssl  # only needed with certificates; keeps the usual start fast
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    return context


def parse_arguments(argv):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description="Moonraker emulator for tests (loopback only).")
    parser.add_argument("--port", type=int, required=True, help="HTTP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--api-key-file", help="file holding the API key (created when missing or empty)")
    parser.add_argument("--scenario", help="JSON scenario file (see README.md)")
    parser.add_argument("--certs-dir", help="folder with moonraker.cert and moonraker.key to serve HTTPS too")
    parser.add_argument("--ssl-port", type=int, default=0, help="HTTPS port when certificates are found")
    return parser.parse_args(argv)


def main(argv):
    """Run the emulator until SIGTERM or SIGINT; return the process exit code."""
    arguments = parse_arguments(argv)
    host = loopback_host(arguments.host)
    if host is None:
        print(f"moonraker-emulator: refusing to bind to non-loopback host '{arguments.host}'", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(arguments.scenario)
        context = tls_context(arguments.certs_dir)
    except (ScenarioError, OSError) as error:
        print(f"moonraker-emulator: {error}", file=sys.stderr)
        return 2
    api_key = read_or_create_api_key(arguments.api_key_file)
    data_dir = tempfile.mkdtemp(prefix="moonraker-emulator-")
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    moonraker = None
    listeners = None
    try:
        moonraker = MoonrakerServer(scenario, data_dir, api_key, host, arguments.port)
        listeners = Listeners(moonraker, host, arguments.port, arguments.ssl_port, context)
        listeners.start()
        moonraker.set_ports(listeners.port, listeners.ssl_port if context is not None else None)
        moonraker.refuse_connections = listeners.refuse
        moonraker.start()
        print(f"moonraker-emulator listening on {host}:{listeners.port}", flush=True)
        while not stop.wait(0.2):
            pass
    except OSError as error:
        print(f"moonraker-emulator: {error}", file=sys.stderr)
        return 1
    finally:
        if listeners is not None:
            listeners.stop()
        if moonraker is not None:
            moonraker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
