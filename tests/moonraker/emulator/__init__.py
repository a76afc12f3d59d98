"""Moonraker emulator for the ipp3d test suite.

The package models what an IPP bridge sees of a Klipper printer behind
Moonraker's HTTP, JSON-RPC and websocket API: `scenario` holds the
configuration, `klipper` the printer and its G-code, `moonraker` the API
endpoints, files, history and authorization, `http_frontend` the wire, and
`eddsa` the EdDSA-signed JSON web tokens. `moonraker_emulator.py` next to
this package is the command-line entry point.
"""
