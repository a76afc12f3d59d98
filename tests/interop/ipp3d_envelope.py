#!/usr/bin/python3
"""An independent implementation of the ipp3d envelope, format version 1.

Written from docs/envelope.md alone (not from the C++ sources), to show that
the specification is complete and to cross-check the C++ implementation.

Primitives:
  * Ed25519, X25519 and SHA-256: ``cryptography`` (OpenSSL) and ``hashlib``;
  * sealed box, secretstream, Argon2id and XChaCha20-Poly1305: PyNaCl
    (libsodium).

The module is also a command-line tool (run it with ``--help``):

  keygen --out KEY [--algorithm ed25519|x25519] [--passphrase-env VAR]
  sign   --key KEY FILE -o OUT [--for PUBFILE ...] [--encrypt]
         [--copies N --licence ID] [--expires SECONDS] [--name NAME]
  verify --trust PUBFILE [...] FILE [--key X25519_SECRET_FILE]
         [--printer-key-id HEX]
  open   (the options of verify) -o PLAINTEXT
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import struct
import sys
import tempfile
import time
from typing import BinaryIO, Callable, Iterable, Iterator, Mapping, Sequence

import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

# --------------------------------------------------------------------------
# Constants of the format (docs/envelope.md)
# --------------------------------------------------------------------------

ED25519 = "ed25519"
X25519 = "x25519"
ALGORITHMS = (ED25519, X25519)
KEY_ID_LABELS = {ED25519: b"ipp3d-ed25519", X25519: b"ipp3d-x25519"}
KEY_ID_SIZE = 16
KEY_SIZE = 32
SIGNATURE_SIZE = 64

PUBLIC_KEY_FORMAT = "ipp3d-public-key-v1"
SECRET_KEY_FORMAT = "ipp3d-secret-key-v1"
PROTECTION_NONE = "none"
PROTECTION_ARGON2ID = "argon2id"
KDF_SALT_SIZE = 16
KDF_WRITE_OPSLIMIT = 3
KDF_WRITE_MEMLIMIT = 64 * 1024 * 1024
KDF_OPSLIMIT_RANGE = (1, 10)
KDF_MEMLIMIT_RANGE = (8 * 1024, 256 * 1024 * 1024)
AEAD_NONCE_SIZE = 24
AEAD_TAG_SIZE = 16
PROTECTED_SECRET_SIZE = AEAD_NONCE_SIZE + KEY_SIZE + AEAD_TAG_SIZE  # 72

MAGIC = b"IPP3DENV"
FORMAT_VERSION = 1
MODE_SIGNED = 0
MODE_ENCRYPTED = 1
PREAMBLE_SIZE = 12
HEADER_BLOCK_SIZE = 4096
MAX_MANIFEST_SIZE = 4030
SIGNATURE_DOMAIN = b"ipp3d-envelope-v1/manifest\x00"

MANIFEST_VERSION = 1
FLAG_ENCRYPTED = 0x01
MAX_CONTENT_TYPE_LENGTH = 127
MAX_PAYLOAD_LENGTH = 1 << 40
MAX_RECIPIENTS = 16
NONCE_SIZE = 16
MAX_LICENCE_ID_LENGTH = 64
MAX_LICENCE_COPIES = 1_000_000
MAX_DOCUMENT_NAME_LENGTH = 255
DIGEST_SIZE = 32
GCODE_CONTENT_TYPE = "text/x-gcode"

ENCRYPTION_HEADER_SIZE = 132
SEALED_KEY_SIZE = 80
STREAM_HEADER_SIZE = 24
STREAM_ABYTES = 17
CHUNK_SIZE_RANGE = (1024, 1048576)
WRITER_CHUNK_SIZE = 65536
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL

CLOCK_SKEW_SECONDS = 5 * 60

# Choices of this implementation, not of the format (the spec leaves them to
# writers and printers): the lifetime `sign` gives an envelope by default,
# the maximum lifetime `verify` accepts by default (both as in the C++
# ipp3d: 7 and 30 days), and the size of the pieces a mode-0 payload is
# read in.
DEFAULT_LIFETIME_SECONDS = 7 * 24 * 3600
DEFAULT_MAX_LIFETIME_SECONDS = 30 * 24 * 3600
READ_PIECE_SIZE = 65536

# Refusal reasons (the keywords of docs/envelope.md §6; `too-large` names a
# payload above the reader's own maximum).
MALFORMED = "malformed"
WRONG_RECIPIENT = "wrong-recipient"
CANNOT_DECRYPT = "cannot-decrypt"
UNKNOWN_SIGNER = "unknown-signer"
BAD_SIGNATURE = "bad-signature"
NOT_YET_VALID = "not-yet-valid"
EXPIRED = "expired"
LIFETIME_TOO_LONG = "lifetime-too-long"
UNSUPPORTED_CONTENT = "unsupported-content"
TOO_LARGE = "too-large"
TRUNCATED = "truncated"
TAMPERED = "tampered"
TRAILING_DATA = "trailing-data"
DIGEST_MISMATCH = "digest-mismatch"
REFUSAL_REASONS = (
    MALFORMED, WRONG_RECIPIENT, CANNOT_DECRYPT, UNKNOWN_SIGNER, BAD_SIGNATURE,
    NOT_YET_VALID, EXPIRED, LIFETIME_TOO_LONG, UNSUPPORTED_CONTENT, TOO_LARGE,
    TRUNCATED, TAMPERED, TRAILING_DATA, DIGEST_MISMATCH,
)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

class Ipp3dError(Exception):
    """Base class of every error this module raises on purpose."""


class KeyFileError(Ipp3dError):
    """A key file is not in the specified form, or cannot be used."""


class WrongPassphrase(KeyFileError):
    """The passphrase does not open a protected secret key file."""


class ManifestError(Ipp3dError):
    """Manifest bytes or values that break a rule of §3."""


class EnvelopeWriteError(Ipp3dError):
    """An envelope could not be made; no output file was left behind."""


class EnvelopeRefused(Ipp3dError):
    """A reader refused an envelope; `reason` is one of REFUSAL_REASONS."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# --------------------------------------------------------------------------
# Keys and key IDs (§1)
# --------------------------------------------------------------------------

def key_id(algorithm: str, public_key: bytes) -> bytes:
    """Return the 16-byte key ID of a public key (§1)."""
    if algorithm not in KEY_ID_LABELS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    if len(public_key) != KEY_SIZE:
        raise ValueError("a public key has 32 bytes")
    digest = hashlib.sha256(KEY_ID_LABELS[algorithm] + b"\x00" + public_key).digest()
    return digest[:KEY_ID_SIZE]


def parse_key_id_hex(text: str) -> bytes:
    """Parse a key ID written as 32 lowercase hexadecimal digits."""
    if not re.fullmatch(r"[0-9a-f]{32}", text):
        raise ValueError(f"a key ID is 32 lowercase hexadecimal digits, not {text!r}")
    return bytes.fromhex(text)


def derive_public_key(algorithm: str, secret: bytes) -> bytes:
    """Return the public key of an Ed25519 seed or an X25519 scalar."""
    if len(secret) != KEY_SIZE:
        raise ValueError("a secret key has 32 bytes")
    if algorithm == ED25519:
        public = Ed25519PrivateKey.from_private_bytes(secret).public_key()
    elif algorithm == X25519:
        public = X25519PrivateKey.from_private_bytes(secret).public_key()
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclasses.dataclass(frozen=True)
class PublicKey:
    """A public key as held in a public key file."""

    algorithm: str
    public_key: bytes
    comment: str | None = None

    @property
    def key_id(self) -> bytes:
        return key_id(self.algorithm, self.public_key)


@dataclasses.dataclass(frozen=True)
class SecretKey:
    """A key pair: the Ed25519 seed or X25519 scalar and its public key."""

    algorithm: str
    secret: bytes = dataclasses.field(repr=False)
    public_key: bytes

    @classmethod
    def from_secret(cls, algorithm: str, secret: bytes) -> SecretKey:
        return cls(algorithm, secret, derive_public_key(algorithm, secret))

    @classmethod
    def generate(cls, algorithm: str) -> SecretKey:
        return cls.from_secret(algorithm, secrets.token_bytes(KEY_SIZE))

    @property
    def key_id(self) -> bytes:
        return key_id(self.algorithm, self.public_key)

    def public(self, comment: str | None = None) -> PublicKey:
        return PublicKey(self.algorithm, self.public_key, comment)

    def sign(self, message: bytes) -> bytes:
        """Pure Ed25519 signature of `message` (Ed25519 keys only)."""
        if self.algorithm != ED25519:
            raise ValueError("only an Ed25519 key signs")
        return Ed25519PrivateKey.from_private_bytes(self.secret).sign(message)


# --------------------------------------------------------------------------
# Key files (§2)
# --------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class _KeyFileLines:
    """Reads the `name: value` lines of a key file strictly in order."""

    def __init__(self, text: bytes, file_format: str):
        if not text:
            raise KeyFileError("line 1: the key file is empty")
        raw_lines = text.split(b"\n")
        if raw_lines[-1]:
            raise KeyFileError(f"line {len(raw_lines)}: the line does not end with a line feed")
        self._lines = []
        for number, raw in enumerate(raw_lines[:-1], start=1):
            try:
                # Python's strict decoder refuses overlong forms, surrogates
                # and code points above U+10FFFF.
                self._lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise KeyFileError(f"line {number}: not valid UTF-8") from None
        self._next = 0
        first = self._take_line()
        if first != file_format:
            raise KeyFileError(f"line 1: expected {file_format!r}")

    def _take_line(self) -> str:
        line = self._lines[self._next]
        self._next += 1
        if "\r" in line:
            raise KeyFileError(f"line {self._next}: carriage return (line ends are LF only)")
        return line

    def _line_error(self, message: str) -> KeyFileError:
        return KeyFileError(f"line {self._next}: {message}")

    def expect(self, name: str) -> str:
        """Return the value of the next line, which must be named `name`."""
        if self._next >= len(self._lines):
            raise KeyFileError(f"line {self._next + 1}: missing {name!r}")
        line = self._take_line()
        found, separator, value = line.partition(": ")
        if not separator or found != name:
            raise self._line_error(f"expected '{name}: <value>', found {line!r}")
        return value

    def optional(self, name: str) -> str | None:
        """Return the next line's value if it is named `name`, else None."""
        if self._next < len(self._lines) and self._lines[self._next].startswith(name + ": "):
            return self.expect(name)
        return None

    def finish(self) -> None:
        """Refuse lines after the last expected one."""
        if self._next < len(self._lines):
            self._next += 1
            raise self._line_error("unexpected line")

    def algorithm(self) -> str:
        value = self.expect("algorithm")
        if value not in ALGORITHMS:
            raise self._line_error(f"unknown algorithm {value!r}")
        return value

    def key_id(self) -> bytes:
        try:
            return parse_key_id_hex(self.expect("key-id"))
        except ValueError as error:
            raise self._line_error(str(error)) from None

    def base64(self, name: str, size: int) -> bytes:
        value = self.expect(name)
        try:
            decoded = base64.b64decode(value, validate=True)
        except ValueError:
            raise self._line_error(f"{name} is not base64") from None
        if _b64(decoded) != value:
            raise self._line_error(f"{name} is not canonical base64")
        if len(decoded) != size:
            raise self._line_error(f"{name} has {len(decoded)} bytes, not {size}")
        return decoded

    def integer(self, name: str, low: int, high: int) -> int:
        value = self.expect(name)
        if not re.fullmatch(r"0|[1-9][0-9]*", value):
            raise self._line_error(f"{name} is not a decimal number")
        number = int(value)
        if not low <= number <= high:
            raise self._line_error(f"{name} {number} is outside {low}..{high}")
        return number

    def check_key_id(self, algorithm: str, public_key: bytes, stated: bytes) -> None:
        if not hmac.compare_digest(key_id(algorithm, public_key), stated):
            raise KeyFileError("line 3: key-id does not match the public key")


def _has_control_character(text: str) -> bool:
    """True when `text` holds U+0000-U+001F or U+007F (the manifest's rule for names)."""
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


def _check_comment(comment: str) -> None:
    if _has_control_character(comment):
        raise ValueError("a key comment is one line without control characters")


def format_public_key_file(key: PublicKey) -> bytes:
    """Return the text of a public key file."""
    lines = [
        PUBLIC_KEY_FORMAT,
        f"algorithm: {key.algorithm}",
        f"key-id: {key.key_id.hex()}",
        f"public-key: {_b64(key.public_key)}",
    ]
    if key.comment is not None:
        _check_comment(key.comment)
        lines.append(f"comment: {key.comment}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse_public_key_file(text: bytes) -> PublicKey:
    """Parse a public key file; KeyFileError names the offending line."""
    lines = _KeyFileLines(text, PUBLIC_KEY_FORMAT)
    algorithm = lines.algorithm()
    stated_id = lines.key_id()
    public_key = lines.base64("public-key", KEY_SIZE)
    comment = lines.optional("comment")
    if comment is not None and _has_control_character(comment):
        raise KeyFileError("line 5: the comment contains a control character")
    lines.finish()
    lines.check_key_id(algorithm, public_key, stated_id)
    return PublicKey(algorithm, public_key, comment)


def _secret_key_associated_data(algorithm: str, public_key: bytes) -> bytes:
    return (SECRET_KEY_FORMAT.encode("ascii") + b"\x00" + algorithm.encode("ascii")
            + b"\x00" + public_key)


def _passphrase_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit)


def format_secret_key_file(key: SecretKey, passphrase: str | None = None, *,
                           opslimit: int = KDF_WRITE_OPSLIMIT,
                           memlimit: int = KDF_WRITE_MEMLIMIT) -> bytes:
    """Return the text of a secret key file, protected when `passphrase` is given.

    An empty passphrase means "not protected" (§2): the file is written with
    `protection: none`, as without a passphrase.
    """
    lines = [
        SECRET_KEY_FORMAT,
        f"algorithm: {key.algorithm}",
        f"key-id: {key.key_id.hex()}",
        f"public-key: {_b64(key.public_key)}",
    ]
    if not passphrase:
        lines += [f"protection: {PROTECTION_NONE}", f"secret-key: {_b64(key.secret)}"]
    else:
        if not (KDF_OPSLIMIT_RANGE[0] <= opslimit <= KDF_OPSLIMIT_RANGE[1]
                and KDF_MEMLIMIT_RANGE[0] <= memlimit <= KDF_MEMLIMIT_RANGE[1]):
            raise ValueError("Argon2id parameters outside the ranges readers accept")
        salt = secrets.token_bytes(KDF_SALT_SIZE)
        nonce = secrets.token_bytes(AEAD_NONCE_SIZE)
        wrapping_key = _passphrase_key(passphrase, salt, opslimit, memlimit)
        sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            key.secret, _secret_key_associated_data(key.algorithm, key.public_key),
            nonce, wrapping_key)
        lines += [
            f"protection: {PROTECTION_ARGON2ID}",
            f"kdf-salt: {_b64(salt)}",
            f"kdf-opslimit: {opslimit}",
            f"kdf-memlimit: {memlimit}",
            f"secret-key: {_b64(nonce + sealed)}",
        ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _unwrap_secret(lines: _KeyFileLines, algorithm: str, public_key: bytes,
                   passphrase: str | None) -> bytes:
    salt = lines.base64("kdf-salt", KDF_SALT_SIZE)
    opslimit = lines.integer("kdf-opslimit", *KDF_OPSLIMIT_RANGE)
    memlimit = lines.integer("kdf-memlimit", *KDF_MEMLIMIT_RANGE)
    wrapped = lines.base64("secret-key", PROTECTED_SECRET_SIZE)
    lines.finish()
    # The Argon2id ranges were checked above, before any hashing (§2). An
    # empty passphrase means "not protected" (§2), so it never opens a
    # protected file: it is treated as no passphrase, without hashing.
    if not passphrase:
        raise KeyFileError("the secret key is passphrase-protected; a passphrase is needed "
                           "(an empty passphrase means not protected)")
    wrapping_key = _passphrase_key(passphrase, salt, opslimit, memlimit)
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped[AEAD_NONCE_SIZE:], _secret_key_associated_data(algorithm, public_key),
            wrapped[:AEAD_NONCE_SIZE], wrapping_key)
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase("wrong passphrase") from None


def parse_secret_key_file(text: bytes, passphrase: str | None = None) -> SecretKey:
    """Parse a secret key file, decrypting it when it is protected."""
    lines = _KeyFileLines(text, SECRET_KEY_FORMAT)
    algorithm = lines.algorithm()
    stated_id = lines.key_id()
    public_key = lines.base64("public-key", KEY_SIZE)
    protection = lines.expect("protection")
    if protection == PROTECTION_NONE:
        secret = lines.base64("secret-key", KEY_SIZE)
        lines.finish()
    elif protection == PROTECTION_ARGON2ID:
        secret = _unwrap_secret(lines, algorithm, public_key, passphrase)
    else:
        raise KeyFileError(f"line 5: unknown protection {protection!r}")
    lines.check_key_id(algorithm, public_key, stated_id)
    derived = derive_public_key(algorithm, secret)
    if not hmac.compare_digest(derived, public_key):
        raise KeyFileError("line 4: public-key is not the secret key's public key")
    return SecretKey(algorithm, secret, public_key)


def read_public_key_file(path: str) -> PublicKey:
    """Read a public key file; errors name the file and the line."""
    with open(path, "rb") as file:
        text = file.read()
    try:
        return parse_public_key_file(text)
    except KeyFileError as error:
        raise KeyFileError(f"{path}: {error}") from None


def read_secret_key_file(path: str, passphrase: str | None = None) -> SecretKey:
    """Read a secret key file, refusing one that group or others may read."""
    with open(path, "rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            raise KeyFileError(
                f"{path}: group or others may read this secret key; run 'chmod 600 {path}'")
        text = file.read()
    try:
        return parse_secret_key_file(text, passphrase)
    except WrongPassphrase:
        raise
    except KeyFileError as error:
        raise KeyFileError(f"{path}: {error}") from None


def _write_new_file(path: str, data: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), mode)
        file.write(data)


def write_key_pair(path: str, key: SecretKey, passphrase: str | None = None,
                   comment: str | None = None) -> None:
    """Write `path` (secret, mode 0600) and `path`.pub; never overwrites."""
    for existing in (path, path + ".pub"):
        if os.path.lexists(existing):
            raise KeyFileError(f"{existing} exists; not overwriting it")
    _write_new_file(path, format_secret_key_file(key, passphrase), 0o600)
    _write_new_file(path + ".pub", format_public_key_file(key.public(comment)), 0o644)


# --------------------------------------------------------------------------
# The manifest (§3)
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Licence:
    """A licence: its ID and the copies each printer may print."""

    licence_id: str
    copies: int


@dataclasses.dataclass(frozen=True)
class Manifest:
    """The claims an author signs."""

    encrypted: bool
    content_type: str
    payload_length: int
    payload_digest: bytes
    signer_key_id: bytes
    created: int
    not_after: int
    recipients: tuple[bytes, ...]
    nonce: bytes
    licence: Licence | None
    document_name: str

    def to_json(self) -> dict:
        """The claims as a JSON-ready dict (binary values in lowercase hex)."""
        return {
            "encrypted": self.encrypted,
            "content_type": self.content_type,
            "payload_length": self.payload_length,
            "payload_sha256": self.payload_digest.hex(),
            "signer_key_id": self.signer_key_id.hex(),
            "created": self.created,
            "not_after": self.not_after,
            "recipients": [recipient.hex() for recipient in self.recipients],
            "nonce": self.nonce.hex(),
            "licence": (None if self.licence is None else
                        {"id": self.licence.licence_id, "copies": self.licence.copies}),
            "document_name": self.document_name,
        }


_LICENCE_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
# §3: `type/subtype`, each an RFC 6838 restricted-name in lower case (a letter
# or digit, then letters, digits and ! # $ & - ^ _ . +), no parameters. The
# character classes are ASCII only (no re.IGNORECASE, no \w).
_RESTRICTED_NAME = r"[a-z0-9][a-z0-9!#$&\-^_.+]*"
_CONTENT_TYPE_PATTERN = re.compile(_RESTRICTED_NAME + "/" + _RESTRICTED_NAME)
_I64_RANGE = (-(1 << 63), (1 << 63) - 1)


def _check_content_type(content_type: str) -> None:
    length = len(content_type.encode("utf-8"))
    if not 1 <= length <= MAX_CONTENT_TYPE_LENGTH:
        raise ManifestError(f"content type length {length} is outside 1..127")
    if not _CONTENT_TYPE_PATTERN.fullmatch(content_type):
        raise ManifestError(f"content type {content_type!r} is not a lower-case type/subtype "
                            "of RFC 6838 restricted-names without parameters")


def _check_document_name(name: str) -> None:
    try:
        # A str may hold lone surrogates, which have no UTF-8 form (§3).
        length = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ManifestError("document name is not valid Unicode (a lone surrogate)") from None
    if length > MAX_DOCUMENT_NAME_LENGTH:
        raise ManifestError(f"document name has {length} bytes, more than 255")
    if _has_control_character(name):
        raise ManifestError("document name contains a control character")


def _check_licence(licence: Licence) -> None:
    length = len(licence.licence_id.encode("utf-8"))
    if not 1 <= length <= MAX_LICENCE_ID_LENGTH:
        raise ManifestError(f"licence ID length {length} is outside 1..64")
    if not _LICENCE_ID_PATTERN.fullmatch(licence.licence_id):
        raise ManifestError("licence ID has characters other than A-Z a-z 0-9 . _ -")
    if not 1 <= licence.copies <= MAX_LICENCE_COPIES:
        raise ManifestError(f"licence copies {licence.copies} is outside 1..1000000")


def _check_recipients(recipients: Sequence[bytes], encrypted: bool) -> None:
    if len(recipients) > MAX_RECIPIENTS:
        raise ManifestError(f"{len(recipients)} recipients, more than 16")
    if encrypted and len(recipients) != 1:
        raise ManifestError("an encrypted manifest has exactly one recipient")
    if any(len(recipient) != KEY_ID_SIZE for recipient in recipients):
        raise ManifestError("a recipient is a 16-byte key ID")
    if any(left >= right for left, right in zip(recipients, recipients[1:])):
        raise ManifestError("recipients are not strictly increasing (unsorted or repeated)")


def validate_manifest(manifest: Manifest) -> None:
    """Raise ManifestError unless every rule of §3 holds."""
    _check_content_type(manifest.content_type)
    if not 0 <= manifest.payload_length <= MAX_PAYLOAD_LENGTH:
        raise ManifestError(f"payload length {manifest.payload_length} is outside 0..2^40")
    if len(manifest.payload_digest) != DIGEST_SIZE:
        raise ManifestError("payload digest is 32 bytes")
    if len(manifest.signer_key_id) != KEY_ID_SIZE:
        raise ManifestError("signer key ID is 16 bytes")
    for value in (manifest.created, manifest.not_after):
        if not _I64_RANGE[0] <= value <= _I64_RANGE[1]:
            raise ManifestError("a time is outside the i64 range")
    if manifest.not_after <= manifest.created:
        raise ManifestError("not-after is not after created")
    _check_recipients(manifest.recipients, manifest.encrypted)
    if len(manifest.nonce) != NONCE_SIZE:
        raise ManifestError("nonce is 16 bytes")
    if manifest.licence is not None:
        _check_licence(manifest.licence)
    _check_document_name(manifest.document_name)


def encode_manifest(manifest: Manifest, *, validate: bool = True) -> bytes:
    """Encode a manifest canonically.

    With `validate=False` the rules of §3 are not checked, so that tests can
    craft manifests a reader must refuse (the byte layout stays the same).
    """
    if validate:
        validate_manifest(manifest)
    content_type = manifest.content_type.encode("ascii")
    parts = [
        struct.pack(">BB", MANIFEST_VERSION, FLAG_ENCRYPTED if manifest.encrypted else 0),
        struct.pack(">B", len(content_type)), content_type,
        struct.pack(">Q", manifest.payload_length),
        manifest.payload_digest,
        manifest.signer_key_id,
        struct.pack(">qq", manifest.created, manifest.not_after),
        struct.pack(">B", len(manifest.recipients)), *manifest.recipients,
        manifest.nonce,
    ]
    if manifest.licence is None:
        parts.append(b"\x00")
    else:
        licence_id = manifest.licence.licence_id.encode("ascii")
        parts += [b"\x01", struct.pack(">B", len(licence_id)), licence_id,
                  struct.pack(">I", manifest.licence.copies)]
    name = manifest.document_name.encode("utf-8")
    parts += [struct.pack(">H", len(name)), name]
    encoded = b"".join(parts)
    if validate and len(encoded) > MAX_MANIFEST_SIZE:
        raise ManifestError(f"manifest has {len(encoded)} bytes, more than 4030")
    return encoded


class _ByteCursor:
    """Takes fields off the front of a byte string; running out is an error."""

    def __init__(self, data: bytes):
        self._data = data
        self._offset = 0

    def take(self, size: int, what: str) -> bytes:
        end = self._offset + size
        if end > len(self._data):
            raise ManifestError(f"manifest ends inside the {what}")
        value = self._data[self._offset:end]
        self._offset = end
        return value

    def unsigned(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "big")

    def signed64(self, what: str) -> int:
        return int.from_bytes(self.take(8, what), "big", signed=True)

    def finish(self) -> None:
        left = len(self._data) - self._offset
        if left:
            raise ManifestError(f"{left} bytes left over after the manifest")


def _decode_ascii(data: bytes, what: str) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise ManifestError(f"{what} is not ASCII") from None


def _decode_licence(cursor: _ByteCursor) -> Licence | None:
    flag = cursor.unsigned(1, "licence flag")
    if flag == 0:
        return None
    if flag != 1:
        raise ManifestError(f"licence flag {flag} is neither 0 nor 1")
    length = cursor.unsigned(1, "licence ID length")
    if not 1 <= length <= MAX_LICENCE_ID_LENGTH:
        raise ManifestError(f"licence ID length {length} is outside 1..64")
    licence_id = _decode_ascii(cursor.take(length, "licence ID"), "licence ID")
    licence = Licence(licence_id, cursor.unsigned(4, "licence copies"))
    _check_licence(licence)
    return licence


def _decode_document_name(cursor: _ByteCursor) -> str:
    length = cursor.unsigned(2, "document name length")
    if length > MAX_DOCUMENT_NAME_LENGTH:
        raise ManifestError(f"document name length {length} is more than 255")
    try:
        name = cursor.take(length, "document name").decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError("document name is not valid UTF-8") from None
    _check_document_name(name)
    return name


def decode_manifest(data: bytes) -> Manifest:
    """Decode manifest bytes, refusing every non-canonical encoding (§3)."""
    if len(data) > MAX_MANIFEST_SIZE:
        raise ManifestError(f"manifest has {len(data)} bytes, more than 4030")
    cursor = _ByteCursor(data)
    version = cursor.unsigned(1, "version")
    if version != MANIFEST_VERSION:
        raise ManifestError(f"unknown manifest version {version}")
    flags = cursor.unsigned(1, "flags")
    if flags & ~FLAG_ENCRYPTED:
        raise ManifestError(f"unknown flag bits 0x{flags:02x}")
    content_type_length = cursor.unsigned(1, "content type length")
    if not 1 <= content_type_length <= MAX_CONTENT_TYPE_LENGTH:
        raise ManifestError(f"content type length {content_type_length} is outside 1..127")
    content_type = _decode_ascii(cursor.take(content_type_length, "content type"), "content type")
    payload_length = cursor.unsigned(8, "payload length")
    payload_digest = cursor.take(DIGEST_SIZE, "payload digest")
    signer_key_id = cursor.take(KEY_ID_SIZE, "signer key ID")
    created = cursor.signed64("created time")
    not_after = cursor.signed64("not-after time")
    recipient_count = cursor.unsigned(1, "recipient count")
    if recipient_count > MAX_RECIPIENTS:
        raise ManifestError(f"{recipient_count} recipients, more than 16")
    recipients = tuple(cursor.take(KEY_ID_SIZE, "recipients") for _ in range(recipient_count))
    nonce = cursor.take(NONCE_SIZE, "nonce")
    licence = _decode_licence(cursor)
    document_name = _decode_document_name(cursor)
    cursor.finish()
    manifest = Manifest(bool(flags & FLAG_ENCRYPTED), content_type, payload_length,
                        payload_digest, signer_key_id, created, not_after, recipients,
                        nonce, licence, document_name)
    validate_manifest(manifest)
    return manifest


def signed_message(manifest_bytes: bytes) -> bytes:
    """The exact bytes the Ed25519 signature covers (§3)."""
    return SIGNATURE_DOMAIN + manifest_bytes


def verify_signature(public_key: bytes, manifest_bytes: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of the manifest.

    §3: verification is libsodium's crypto_sign_verify_detached, which
    refuses non-canonical S, small-order public keys and small-order R
    (OpenSSL accepts the last two). PyNaCl exposes it through
    crypto_sign_open, which runs the same check on signature || message.
    Signing stays with OpenSSL, so the C++ side (libsodium) checks OpenSSL's
    signatures and this module checks libsodium's.
    """
    if len(public_key) != KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        sodium.crypto_sign_open(signature + signed_message(manifest_bytes), public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError):
        return False
    return True


def verify_signature_openssl(public_key: bytes, manifest_bytes: bytes, signature: bytes) -> bool:
    """OpenSSL's Ed25519 verification; NOT the rule of §3 (kept for tests that show the difference)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, signed_message(manifest_bytes))
    except (InvalidSignature, ValueError):
        return False
    return True


# --------------------------------------------------------------------------
# Envelope layout (§4)
# --------------------------------------------------------------------------

def encode_preamble(mode: int) -> bytes:
    """The 12-byte preamble of §4.1."""
    return MAGIC + struct.pack(">BBH", FORMAT_VERSION, mode, 0)


def encode_header_block(manifest_bytes: bytes, signature: bytes) -> bytes:
    """The 4096-byte header block of §4.2."""
    if not 1 <= len(manifest_bytes) <= MAX_MANIFEST_SIZE:
        raise ManifestError(f"manifest has {len(manifest_bytes)} bytes, not 1..4030")
    if len(signature) != SIGNATURE_SIZE:
        raise ValueError("an Ed25519 signature has 64 bytes")
    block = struct.pack(">H", len(manifest_bytes)) + manifest_bytes + signature
    return block + bytes(HEADER_BLOCK_SIZE - len(block))


def encode_encryption_header(recipient_key_id: bytes, chunk_size: int, payload_length: int,
                             sealed_key: bytes, stream_header: bytes) -> bytes:
    """The 132-byte clear encryption header of §4.4."""
    header = (recipient_key_id + struct.pack(">IQ", chunk_size, payload_length)
              + sealed_key + stream_header)
    if len(header) != ENCRYPTION_HEADER_SIZE:
        raise ValueError("encryption header fields have the wrong sizes")
    return header


def chunk_count(payload_length: int, chunk_size: int) -> int:
    """⌈L/C⌉: the number of payload messages in mode 1."""
    return -(-payload_length // chunk_size)


def envelope_size(mode: int, payload_length: int, chunk_size: int = WRITER_CHUNK_SIZE) -> int:
    """The exact file size of an envelope (§4.3, §4.4)."""
    if mode == MODE_SIGNED:
        return PREAMBLE_SIZE + HEADER_BLOCK_SIZE + payload_length
    return (PREAMBLE_SIZE + ENCRYPTION_HEADER_SIZE + HEADER_BLOCK_SIZE + STREAM_ABYTES
            + payload_length + STREAM_ABYTES * chunk_count(payload_length, chunk_size)
            + STREAM_ABYTES)


class SecretStreamWriter:
    """Pushes the messages of one crypto_secretstream_xchacha20poly1305 stream."""

    def __init__(self, key: bytes):
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        self.header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)

    def push(self, message: bytes, tag: int = TAG_MESSAGE,
             associated_data: bytes | None = None) -> bytes:
        return sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, message, associated_data, tag)


# --------------------------------------------------------------------------
# Making an envelope (§5)
# --------------------------------------------------------------------------

def _read_pieces(file: BinaryIO, piece_size: int, limit: int) -> Iterator[bytes]:
    """Yield pieces of `piece_size` bytes (the last may be shorter), up to `limit` bytes."""
    left = limit
    while left > 0:
        piece = _read_exact(file, min(piece_size, left))
        if not piece:
            return
        left -= len(piece)
        yield piece
        if len(piece) < piece_size:
            return


def _read_exact(file: BinaryIO, size: int) -> bytes:
    """Read `size` bytes, fewer only at end of file."""
    parts = []
    left = size
    while left > 0:
        part = file.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def digest_file(path: str) -> tuple[int, bytes]:
    """Return the length and SHA-256 of a file, read in pieces."""
    sha256 = hashlib.sha256()
    length = 0
    with open(path, "rb") as file:
        for piece in iter(lambda: file.read(READ_PIECE_SIZE), b""):
            sha256.update(piece)
            length += len(piece)
    return length, sha256.digest()


@dataclasses.dataclass(frozen=True)
class EnvelopeOptions:
    """What the author chooses for one envelope.

    `created`, `nonce` and `not_after` are normally left to the writer
    (now, random, created + lifetime); tests fix them to get exact bytes.
    """

    recipients: Sequence[PublicKey] = ()
    encrypt: bool = False
    content_type: str = GCODE_CONTENT_TYPE
    licence: Licence | None = None
    document_name: str = ""
    lifetime: int = DEFAULT_LIFETIME_SECONDS
    created: int | None = None
    not_after: int | None = None
    nonce: bytes | None = None
    chunk_size: int = WRITER_CHUNK_SIZE


def _recipient_key_ids(recipients: Sequence[PublicKey]) -> tuple[bytes, ...]:
    for recipient in recipients:
        if recipient.algorithm != X25519:
            raise EnvelopeWriteError("a recipient is a printer's X25519 public key")
    key_ids = sorted(recipient.key_id for recipient in recipients)
    if len(set(key_ids)) != len(key_ids):
        raise EnvelopeWriteError("the same printer is named twice")
    return tuple(key_ids)


def build_manifest(signing_key: SecretKey, options: EnvelopeOptions,
                   payload_length: int, payload_digest: bytes) -> Manifest:
    """Build and validate the manifest of a new envelope."""
    if signing_key.algorithm != ED25519:
        raise EnvelopeWriteError("the signing key must be an Ed25519 key")
    if options.encrypt and len(options.recipients) != 1:
        raise EnvelopeWriteError("an encrypted envelope has exactly one recipient printer")
    created = int(time.time()) if options.created is None else options.created
    not_after = created + options.lifetime if options.not_after is None else options.not_after
    manifest = Manifest(
        encrypted=options.encrypt,
        content_type=options.content_type,
        payload_length=payload_length,
        payload_digest=payload_digest,
        signer_key_id=signing_key.key_id,
        created=created,
        not_after=not_after,
        recipients=_recipient_key_ids(options.recipients),
        nonce=secrets.token_bytes(NONCE_SIZE) if options.nonce is None else options.nonce,
        licence=options.licence,
        document_name=options.document_name,
    )
    try:
        validate_manifest(manifest)
    except ManifestError as error:
        raise EnvelopeWriteError(str(error)) from None
    return manifest


def signed_header_block(signing_key: SecretKey, manifest: Manifest) -> bytes:
    """Encode, sign and lay out the manifest (§3, §4.2)."""
    manifest_bytes = encode_manifest(manifest)
    return encode_header_block(manifest_bytes, signing_key.sign(signed_message(manifest_bytes)))


class _HashingSource:
    """The second read of the document: yields pieces and hashes them."""

    def __init__(self, file: BinaryIO, expected_length: int):
        self._file = file
        self._expected_length = expected_length
        self._sha256 = hashlib.sha256()
        self._length = 0

    def pieces(self, piece_size: int) -> Iterator[bytes]:
        for piece in _read_pieces(self._file, piece_size, self._expected_length):
            self._sha256.update(piece)
            self._length += len(piece)
            yield piece

    def check_unchanged(self, expected_digest: bytes) -> None:
        """Refuse a document whose second read differs from the first."""
        grew = bool(self._file.read(1))
        if (grew or self._length != self._expected_length
                or not hmac.compare_digest(self._sha256.digest(), expected_digest)):
            raise EnvelopeWriteError("the document changed while it was being signed")


def _write_mode0(out: BinaryIO, header_block: bytes, source: _HashingSource) -> None:
    out.write(encode_preamble(MODE_SIGNED))
    out.write(header_block)
    for piece in source.pieces(READ_PIECE_SIZE):
        out.write(piece)


def _write_mode1(out: BinaryIO, header_block: bytes, source: _HashingSource,
                 recipient: PublicKey, payload_length: int, chunk_size: int) -> None:
    content_key = secrets.token_bytes(sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES)
    sealed_key = sodium.crypto_box_seal(content_key, recipient.public_key)
    stream = SecretStreamWriter(content_key)
    clear_part = encode_preamble(MODE_ENCRYPTED) + encode_encryption_header(
        recipient.key_id, chunk_size, payload_length, sealed_key, stream.header)
    out.write(clear_part)
    out.write(stream.push(header_block, TAG_MESSAGE, clear_part))
    for piece in source.pieces(chunk_size):
        out.write(stream.push(piece))
    out.write(stream.push(b"", TAG_FINAL))


def _check_regular_file(path: str) -> None:
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise EnvelopeWriteError(
            f"{path} is not a regular file (the document is read twice); save it to a file first")


def _default_file_mode() -> int:
    """0666 less the process's umask: the mode `open()` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def make_envelope(document_path: str, output_path: str, signing_key: SecretKey,
                  options: EnvelopeOptions = EnvelopeOptions()) -> Manifest:
    """Make an envelope of a document file (§5); returns its manifest.

    The output appears at `output_path` only when complete; on any error
    nothing is left behind.
    """
    _check_regular_file(document_path)
    if not CHUNK_SIZE_RANGE[0] <= options.chunk_size <= CHUNK_SIZE_RANGE[1]:
        raise EnvelopeWriteError(f"chunk size {options.chunk_size} is outside 1024..1048576")
    payload_length, payload_digest = digest_file(document_path)
    manifest = build_manifest(signing_key, options, payload_length, payload_digest)
    header_block = signed_header_block(signing_key, manifest)
    directory = os.path.dirname(os.path.abspath(output_path))
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".ipp3d-", delete=False) as out:
        try:
            with open(document_path, "rb") as document:
                source = _HashingSource(document, payload_length)
                if options.encrypt:
                    _write_mode1(out, header_block, source, options.recipients[0],
                                 payload_length, options.chunk_size)
                else:
                    _write_mode0(out, header_block, source)
                source.check_unchanged(payload_digest)
            out.flush()
            os.fchmod(out.fileno(), _default_file_mode())
            os.fsync(out.fileno())
        except BaseException:
            out.close()
            os.unlink(out.name)
            raise
    os.replace(out.name, output_path)
    return manifest


# --------------------------------------------------------------------------
# Reading an envelope (§6)
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ReaderPolicy:
    """What the reading printer knows and accepts.

    `printer_key` is the printer's X25519 key pair (needed for mode 1);
    `printer_key_id` may be given instead of, or together with, it. Without
    either, the reader is not a printer: the recipient check of step 5 is
    skipped, and mode-1 envelopes are refused as cannot-decrypt.
    """

    trusted_signers: Mapping[bytes, bytes]
    printer_key: SecretKey | None = None
    printer_key_id: bytes | None = None
    accept_unaddressed: bool = True
    max_lifetime: int = DEFAULT_MAX_LIFETIME_SECONDS
    max_payload_length: int = MAX_PAYLOAD_LENGTH
    accepted_content_types: frozenset[str] | None = None
    now: int | None = None

    def __post_init__(self) -> None:
        if self.printer_key is not None:
            if self.printer_key.algorithm != X25519:
                raise ValueError("the printer key is an X25519 key")
            if self.printer_key_id is not None and self.printer_key_id != self.printer_key.key_id:
                raise ValueError("the printer key ID is not the printer key's")

    @property
    def own_key_id(self) -> bytes | None:
        if self.printer_key is not None:
            return self.printer_key.key_id
        return self.printer_key_id


def trust_store(public_keys: Iterable[PublicKey]) -> dict[bytes, bytes]:
    """Map key ID → Ed25519 public key for the signers a reader trusts."""
    store = {}
    for key in public_keys:
        if key.algorithm != ED25519:
            raise KeyFileError("a trusted signer is an Ed25519 public key")
        store[key.key_id] = key.public_key
    return store


@dataclasses.dataclass(frozen=True)
class VerifiedEnvelope:
    """A valid envelope's mode, chunk size (mode 1) and signed claims."""

    mode: int
    chunk_size: int | None
    manifest: Manifest

    def to_json(self) -> dict:
        return {"mode": self.mode, "chunk_size": self.chunk_size, **self.manifest.to_json()}


def check_claims(manifest: Manifest, policy: ReaderPolicy) -> None:
    """The claim checks of §6 steps 5, 6 and 8 (step 7 needs the printer's state)."""
    own_id = policy.own_key_id
    if own_id is not None:
        if manifest.recipients:
            if not any(hmac.compare_digest(own_id, rid) for rid in manifest.recipients):
                raise EnvelopeRefused(WRONG_RECIPIENT, "the envelope is not addressed to this printer")
        elif not policy.accept_unaddressed:
            raise EnvelopeRefused(WRONG_RECIPIENT, "this printer refuses unaddressed envelopes")
    now = int(time.time()) if policy.now is None else policy.now
    if manifest.created > now + CLOCK_SKEW_SECONDS:
        raise EnvelopeRefused(NOT_YET_VALID, f"created {manifest.created} is in the future")
    if not now < manifest.not_after:
        raise EnvelopeRefused(EXPIRED, f"not valid after {manifest.not_after}")
    lifetime = manifest.not_after - manifest.created
    if lifetime > policy.max_lifetime:
        raise EnvelopeRefused(LIFETIME_TOO_LONG,
                              f"lifetime {lifetime} s exceeds {policy.max_lifetime} s")
    if (policy.accepted_content_types is not None
            and manifest.content_type not in policy.accepted_content_types):
        raise EnvelopeRefused(UNSUPPORTED_CONTENT, f"content type {manifest.content_type!r}")


def check_payload_limit(manifest: Manifest, policy: ReaderPolicy) -> None:
    """The reader's own payload limit, applied at §6 step 3 [too-large]."""
    if manifest.payload_length > policy.max_payload_length:
        raise EnvelopeRefused(TOO_LARGE, f"payload of {manifest.payload_length} bytes exceeds "
                                         f"{policy.max_payload_length}")


class SecretStreamReader:
    """Pulls the messages of one crypto_secretstream_xchacha20poly1305 stream."""

    def __init__(self, header: bytes, key: bytes):
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)

    def pull(self, ciphertext: bytes, associated_data: bytes | None = None) -> tuple[bytes, int] | None:
        """Return (plaintext, tag), or None when authentication fails."""
        try:
            return sodium.crypto_secretstream_xchacha20poly1305_pull(
                self._state, ciphertext, associated_data)
        except nacl.exceptions.CryptoError:
            return None


@dataclasses.dataclass(frozen=True)
class _EncryptionHeader:
    recipient_key_id: bytes
    chunk_size: int
    payload_length: int
    sealed_key: bytes
    stream_header: bytes

    @classmethod
    def decode(cls, data: bytes) -> _EncryptionHeader:
        chunk_size, payload_length = struct.unpack(">IQ", data[16:28])
        return cls(data[:16], chunk_size, payload_length, data[28:108], data[108:132])


class EnvelopeReader:
    """Reads one envelope in the order of §6 with memory bounded by one chunk.

    As §4.4 and §6 decide: an input ending early is `truncated` wherever it
    ends (only an empty input, or one not starting with (a prefix of) the
    magic, is `malformed`); a `TAG_FINAL` before the final message (message
    1 included), or another tag on the final message, is `truncated`; a
    `TAG_PUSH` or `TAG_REKEY` on message 1 or a payload chunk is `malformed`;
    the reader's payload limit is applied at step 3 [too-large]; the step-9
    checks come in the order tampered, truncated, trailing-data,
    digest-mismatch.

    `sink`, when given, receives the plaintext payload piece by piece; it is
    only trustworthy once `read()` returns (a refusal may come after pieces
    were delivered), so callers must discard what they got on a refusal.
    """

    def __init__(self, stream: BinaryIO, policy: ReaderPolicy,
                 sink: Callable[[bytes], object] | None = None):
        self._stream = stream
        self._policy = policy
        self._sink = sink
        self._mode = MODE_SIGNED
        self._preamble = b""
        self._encryption: _EncryptionHeader | None = None
        self._decryptor: SecretStreamReader | None = None

    def read(self) -> VerifiedEnvelope:
        """Verify the whole envelope; raise EnvelopeRefused on the first failure."""
        self._mode = self._read_preamble()
        if self._mode == MODE_ENCRYPTED:
            header_block = self._open_encryption()
        else:
            header_block = self._read_before_payload(HEADER_BLOCK_SIZE, "header block")
        manifest_bytes, signature = self._split_header_block(header_block)
        manifest = self._decode_manifest(manifest_bytes)
        check_payload_limit(manifest, self._policy)
        self._check_signature(manifest, manifest_bytes, signature)
        check_claims(manifest, self._policy)
        if self._mode == MODE_ENCRYPTED:
            digest = self._read_encrypted_payload(manifest.payload_length)
        else:
            digest = self._read_clear_payload(manifest.payload_length)
        if self._stream.read(1):
            raise EnvelopeRefused(TRAILING_DATA, "bytes follow the end of the envelope")
        if not hmac.compare_digest(digest, manifest.payload_digest):
            raise EnvelopeRefused(DIGEST_MISMATCH, "the payload's SHA-256 is not the signed one")
        chunk_size = self._encryption.chunk_size if self._encryption else None
        return VerifiedEnvelope(self._mode, chunk_size, manifest)

    # Steps 1-3 ------------------------------------------------------------

    def _read_before_payload(self, size: int, what: str) -> bytes:
        data = _read_exact(self._stream, size)
        if len(data) != size:
            raise EnvelopeRefused(TRUNCATED, f"the file ends inside the {what}")
        return data

    def _read_preamble(self) -> int:
        preamble = _read_exact(self._stream, PREAMBLE_SIZE)
        if not preamble or not MAGIC.startswith(preamble[:len(MAGIC)]):
            raise EnvelopeRefused(MALFORMED, "not an ipp3d envelope (bad magic)")
        if len(preamble) != PREAMBLE_SIZE:
            raise EnvelopeRefused(TRUNCATED, "the file ends inside the preamble")
        magic, version, mode, reserved = struct.unpack(">8sBBH", preamble)
        if version != FORMAT_VERSION:
            raise EnvelopeRefused(MALFORMED, f"unknown format version {version}")
        if mode not in (MODE_SIGNED, MODE_ENCRYPTED):
            raise EnvelopeRefused(MALFORMED, f"unknown mode {mode}")
        if reserved != 0:
            raise EnvelopeRefused(MALFORMED, "reserved preamble bytes are not zero")
        self._preamble = preamble
        return mode

    def _open_encryption(self) -> bytes:
        """Step 2: recipient, sealed content key, and message 1 (the header block)."""
        raw_header = self._read_before_payload(ENCRYPTION_HEADER_SIZE, "encryption header")
        encryption = _EncryptionHeader.decode(raw_header)
        own_id = self._policy.own_key_id
        if own_id is not None and not hmac.compare_digest(own_id, encryption.recipient_key_id):
            raise EnvelopeRefused(WRONG_RECIPIENT,
                                  f"encrypted to {encryption.recipient_key_id.hex()}, not to this printer")
        printer_key = self._policy.printer_key
        if printer_key is None:
            raise EnvelopeRefused(CANNOT_DECRYPT, "the printer's X25519 secret key is not available")
        try:
            content_key = sodium.crypto_box_seal_open(
                encryption.sealed_key, printer_key.public_key, printer_key.secret)
        except nacl.exceptions.CryptoError:
            raise EnvelopeRefused(CANNOT_DECRYPT, "the sealed content key does not open") from None
        if len(content_key) != sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES:
            raise EnvelopeRefused(CANNOT_DECRYPT, "the sealed content key is not 32 bytes")
        self._decryptor = SecretStreamReader(encryption.stream_header, content_key)
        sealed_block = self._read_before_payload(HEADER_BLOCK_SIZE + STREAM_ABYTES,
                                                 "encrypted header block")
        pulled = self._decryptor.pull(sealed_block, self._preamble + raw_header)
        if pulled is None:
            raise EnvelopeRefused(CANNOT_DECRYPT, "the header block does not decrypt")
        header_block, tag = pulled
        if tag == TAG_FINAL:
            raise EnvelopeRefused(TRUNCATED, "the stream ends with the header block")
        if tag != TAG_MESSAGE:
            raise EnvelopeRefused(MALFORMED, f"the header block message has tag {tag}, not 0")
        self._encryption = encryption
        return header_block

    @staticmethod
    def _split_header_block(block: bytes) -> tuple[bytes, bytes]:
        (manifest_length,) = struct.unpack(">H", block[:2])
        if not 1 <= manifest_length <= MAX_MANIFEST_SIZE:
            raise EnvelopeRefused(MALFORMED, f"manifest length {manifest_length} is outside 1..4030")
        end = 2 + manifest_length
        padding = block[end + SIGNATURE_SIZE:]
        if any(padding):
            raise EnvelopeRefused(MALFORMED, "the header block's padding is not zero")
        return block[2:end], block[end:end + SIGNATURE_SIZE]

    def _decode_manifest(self, manifest_bytes: bytes) -> Manifest:
        try:
            manifest = decode_manifest(manifest_bytes)
        except ManifestError as error:
            raise EnvelopeRefused(MALFORMED, f"manifest: {error}") from None
        if manifest.encrypted != (self._mode == MODE_ENCRYPTED):
            raise EnvelopeRefused(MALFORMED, f"the manifest's encryption flag contradicts mode {self._mode}")
        encryption = self._encryption
        if encryption is not None:
            if not CHUNK_SIZE_RANGE[0] <= encryption.chunk_size <= CHUNK_SIZE_RANGE[1]:
                raise EnvelopeRefused(MALFORMED, f"chunk size {encryption.chunk_size} is outside 1024..1048576")
            if manifest.recipients[0] != encryption.recipient_key_id:
                raise EnvelopeRefused(MALFORMED, "the signed recipient is not the clear recipient")
            if manifest.payload_length != encryption.payload_length:
                raise EnvelopeRefused(MALFORMED, "the clear payload length is not the signed one")
        return manifest

    # Step 4 -----------------------------------------------------------------

    def _check_signature(self, manifest: Manifest, manifest_bytes: bytes, signature: bytes) -> None:
        public_key = self._policy.trusted_signers.get(manifest.signer_key_id)
        if public_key is None:
            raise EnvelopeRefused(UNKNOWN_SIGNER, f"signer {manifest.signer_key_id.hex()} is not trusted")
        if not verify_signature(public_key, manifest_bytes, signature):
            raise EnvelopeRefused(BAD_SIGNATURE, "the manifest's signature does not verify")

    # Step 9 -----------------------------------------------------------------

    def _deliver(self, piece: bytes, sha256) -> None:
        sha256.update(piece)
        if self._sink is not None:
            self._sink(piece)

    def _read_clear_payload(self, payload_length: int) -> bytes:
        sha256 = hashlib.sha256()
        received = 0
        for piece in _read_pieces(self._stream, READ_PIECE_SIZE, payload_length):
            received += len(piece)
            self._deliver(piece, sha256)
        if received != payload_length:
            raise EnvelopeRefused(TRUNCATED, f"the payload ends after {received} of {payload_length} bytes")
        return sha256.digest()

    def _pull_message(self, plaintext_size: int, position: str) -> tuple[bytes, int]:
        ciphertext = _read_exact(self._stream, plaintext_size + STREAM_ABYTES)
        if len(ciphertext) != plaintext_size + STREAM_ABYTES:
            raise EnvelopeRefused(TRUNCATED, f"the file ends inside {position}")
        pulled = self._decryptor.pull(ciphertext)
        if pulled is None:
            raise EnvelopeRefused(TAMPERED, f"{position} does not authenticate")
        return pulled

    def _read_encrypted_payload(self, payload_length: int) -> bytes:
        sha256 = hashlib.sha256()
        chunk_size = self._encryption.chunk_size
        chunks = chunk_count(payload_length, chunk_size)
        for index in range(chunks):
            size = min(chunk_size, payload_length - index * chunk_size)
            piece, tag = self._pull_message(size, f"payload chunk {index + 1} of {chunks}")
            if tag == TAG_FINAL:
                raise EnvelopeRefused(TRUNCATED, f"the stream ends at chunk {index + 1} of {chunks}")
            if tag != TAG_MESSAGE:
                raise EnvelopeRefused(MALFORMED, f"payload chunk {index + 1} has tag {tag}, not 0")
            self._deliver(piece, sha256)
        _, tag = self._pull_message(0, "the final message")
        if tag != TAG_FINAL:
            raise EnvelopeRefused(TRUNCATED, "the stream does not end with its final message")
        return sha256.digest()


def read_envelope(path: str, policy: ReaderPolicy,
                  sink: Callable[[bytes], object] | None = None) -> VerifiedEnvelope:
    """Verify the envelope file at `path` (see EnvelopeReader)."""
    with open(path, "rb") as stream:
        return EnvelopeReader(stream, policy, sink).read()


def open_envelope(path: str, policy: ReaderPolicy, plaintext_path: str) -> VerifiedEnvelope:
    """Verify an envelope and write its plaintext; nothing is written on refusal."""
    directory = os.path.dirname(os.path.abspath(plaintext_path))
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".ipp3d-", delete=False) as out:
        try:
            verified = read_envelope(path, policy, out.write)
            out.flush()
        except BaseException:
            out.close()
            os.unlink(out.name)
            raise
    os.replace(out.name, plaintext_path)
    return verified


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_ERROR = 2


def _passphrase_from_env(variable: str | None) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise KeyFileError(f"environment variable {variable} is not set")
    if not value:
        # §2: an empty passphrase means "not protected". Asked for a
        # passphrase, the tool refuses rather than silently not protecting
        # a new key (as `ipp3d keygen --passphrase` does).
        raise KeyFileError(f"the passphrase in {variable} is empty (an empty passphrase means "
                           "not protected: leave out --passphrase-env)")
    return value


def _command_keygen(args: argparse.Namespace) -> int:
    key = SecretKey.generate(args.algorithm)
    write_key_pair(args.out, key, _passphrase_from_env(args.passphrase_env), args.comment)
    print(key.key_id.hex())
    return EXIT_OK


def _command_sign(args: argparse.Namespace) -> int:
    signing_key = read_secret_key_file(args.key, _passphrase_from_env(args.passphrase_env))
    if (args.copies is None) != (args.licence is None):
        raise EnvelopeWriteError("--copies and --licence go together")
    licence = None if args.licence is None else Licence(args.licence, args.copies)
    options = EnvelopeOptions(
        recipients=[read_public_key_file(path) for path in args.recipients],
        encrypt=args.encrypt,
        content_type=args.content_type,
        licence=licence,
        document_name=os.path.basename(args.file) if args.name is None else args.name,
        lifetime=args.expires,
        chunk_size=args.chunk_size,
    )
    make_envelope(args.file, args.output, signing_key, options)
    return EXIT_OK


def _policy_from_args(args: argparse.Namespace) -> ReaderPolicy:
    printer_key = None
    if args.key is not None:
        printer_key = read_secret_key_file(args.key, _passphrase_from_env(args.passphrase_env))
        if printer_key.algorithm != X25519:
            raise KeyFileError(f"{args.key}: the printer key is an X25519 key")
    printer_key_id = None if args.printer_key_id is None else parse_key_id_hex(args.printer_key_id)
    if printer_key and printer_key_id and printer_key.key_id != printer_key_id:
        raise KeyFileError("--printer-key-id is not the key ID of --key")
    return ReaderPolicy(
        trusted_signers=trust_store(read_public_key_file(path) for path in args.trust),
        printer_key=printer_key,
        printer_key_id=printer_key_id,
        accept_unaddressed=not args.refuse_unaddressed,
        max_lifetime=args.max_lifetime,
        max_payload_length=args.max_payload_length,
        accepted_content_types=(None if args.accept_content_type is None
                                else frozenset(args.accept_content_type)),
        now=args.now,
    )


def _command_verify(args: argparse.Namespace) -> int:
    policy = _policy_from_args(args)
    if args.command == "open":
        verified = open_envelope(args.file, policy, args.output)
    else:
        verified = read_envelope(args.file, policy)
    print(json.dumps(verified.to_json(), indent=2))
    return EXIT_OK


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the envelope")
    parser.add_argument("--trust", metavar="PUBFILE", action="append", required=True,
                        help="public key file of a trusted signer (repeatable)")
    parser.add_argument("--key", metavar="X25519_SECRET_FILE",
                        help="the printer's X25519 secret key file (needed for mode 1)")
    parser.add_argument("--printer-key-id", metavar="HEX",
                        help="the printer's key ID (checked against the recipients)")
    parser.add_argument("--passphrase-env", metavar="VAR",
                        help="environment variable holding the passphrase of --key")
    parser.add_argument("--refuse-unaddressed", action="store_true",
                        help="refuse envelopes without recipients")
    parser.add_argument("--max-lifetime", type=_positive_int,
                        default=DEFAULT_MAX_LIFETIME_SECONDS, metavar="SECONDS",
                        help="longest accepted not-after - created (default: 30 days)")
    parser.add_argument("--max-payload-length", type=_positive_int,
                        default=MAX_PAYLOAD_LENGTH, metavar="BYTES",
                        help="largest accepted document (default: 2^40)")
    parser.add_argument("--accept-content-type", action="append", metavar="TYPE",
                        help="accepted content type (repeatable; default: any)")
    parser.add_argument("--now", type=int, metavar="UNIX_TIME",
                        help="check the times against this instead of the clock")


def build_argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipp3d_envelope.py",
        description="Independent Python implementation of the ipp3d envelope (format v1).")
    commands = parser.add_subparsers(dest="command", required=True)

    keygen = commands.add_parser("keygen", help="make a key pair: KEY (0600) and KEY.pub")
    keygen.add_argument("--out", required=True, metavar="KEY")
    keygen.add_argument("--algorithm", choices=ALGORITHMS, default=ED25519)
    keygen.add_argument("--passphrase-env", metavar="VAR",
                        help="protect KEY with the passphrase in this environment variable")
    keygen.add_argument("--comment", help="comment line of KEY.pub")
    keygen.set_defaults(run=_command_keygen)

    sign = commands.add_parser("sign", help="make an envelope of a document")
    sign.add_argument("file", metavar="FILE")
    sign.add_argument("--key", required=True, metavar="KEY", help="Ed25519 secret key file")
    sign.add_argument("-o", "--output", required=True, metavar="OUT")
    sign.add_argument("--for", dest="recipients", action="append", default=[],
                      metavar="PUBFILE", help="a printer's X25519 public key file (repeatable)")
    sign.add_argument("--encrypt", action="store_true", help="encrypt to the one --for printer")
    sign.add_argument("--copies", type=_positive_int, metavar="N")
    sign.add_argument("--licence", metavar="ID")
    sign.add_argument("--expires", type=_positive_int, default=DEFAULT_LIFETIME_SECONDS,
                      metavar="SECONDS", help="lifetime (default: 7 days)")
    sign.add_argument("--name", help="document name (default: the file's base name)")
    sign.add_argument("--content-type", default=GCODE_CONTENT_TYPE)
    sign.add_argument("--chunk-size", type=_positive_int, default=WRITER_CHUNK_SIZE)
    sign.add_argument("--passphrase-env", metavar="VAR",
                      help="environment variable holding the passphrase of --key")
    sign.set_defaults(run=_command_sign)

    verify = commands.add_parser("verify", help="verify an envelope; print its claims as JSON")
    _add_reader_arguments(verify)
    verify.set_defaults(run=_command_verify)

    open_ = commands.add_parser("open", help="verify an envelope and write its plaintext")
    _add_reader_arguments(open_)
    open_.add_argument("-o", "--output", required=True, metavar="PLAINTEXT")
    open_.set_defaults(run=_command_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_argument_parser().parse_args(argv)
    try:
        return args.run(args)
    except EnvelopeRefused as refusal:
        print(f"{refusal.reason}: {refusal.detail}", file=sys.stderr)
        return EXIT_REFUSED
    except (Ipp3dError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
