"""Tests of the independent Python implementation of the ipp3d envelope.

* self tests: round trips in both modes, key files, manifest canonical form,
  and one crafted envelope per refusal reason;
* the committed test vectors in tests/vectors/ (skipped only while that
  folder does not exist);
* cross-implementation tests against the C++ `ipp3d` command (path in
  IPP3D_CLIENT_BINARY). When the binary or one of its commands is missing
  these tests FAIL, unless IPP3D_INTEROP_ALLOW_SKIP=1 is set (for
  development before the C++ side exists); CTest never sets it.

Run: cd tests/interop && /usr/bin/python3 -m unittest -v test_interop
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import stat
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Callable
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nacl.bindings as sodium  # noqa: E402

import ipp3d_envelope as env  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("IPP3D_SOURCE_DIR", os.path.normpath(os.path.join(HERE, "..", "..")))
VECTORS_DIR = os.path.join(SOURCE_DIR, "tests", "vectors")
CLIENT_BINARY = os.environ.get("IPP3D_CLIENT_BINARY",
                               os.path.join(SOURCE_DIR, "build", "bin", "ipp3d"))
ALLOW_SKIP = os.environ.get("IPP3D_INTEROP_ALLOW_SKIP") == "1"
SCRIPT = os.path.join(HERE, "ipp3d_envelope.py")
PYTHON = sys.executable

SMALL_CHUNK = 1024
NOW = int(time.time())


# --------------------------------------------------------------------------
# Shared fixtures and helpers
# --------------------------------------------------------------------------

class Keys:
    """One author, a second (untrusted) author and two printers, made once."""

    author = env.SecretKey.generate(env.ED25519)
    stranger = env.SecretKey.generate(env.ED25519)
    printer = env.SecretKey.generate(env.X25519)
    other_printer = env.SecretKey.generate(env.X25519)


def document(size: int) -> bytes:
    """A deterministic document of `size` bytes (G-code-like lines)."""
    line = b"G1 X10.000 Y20.000 E0.12345 ; interop\n"
    return (line * (size // len(line) + 1))[:size]


def printer_policy(**changes) -> env.ReaderPolicy:
    """The policy of Keys.printer trusting Keys.author."""
    fields = {"trusted_signers": env.trust_store([Keys.author.public()]),
              "printer_key": Keys.printer, "now": NOW}
    fields.update(changes)
    return env.ReaderPolicy(**fields)


def make_manifest(payload: bytes, **changes) -> env.Manifest:
    """A valid manifest for `payload` by Keys.author; `changes` override fields."""
    fields = {
        "encrypted": False,
        "content_type": env.GCODE_CONTENT_TYPE,
        "payload_length": len(payload),
        "payload_digest": hashlib.sha256(payload).digest(),
        "signer_key_id": Keys.author.key_id,
        "created": NOW - 60,
        "not_after": NOW + 3600,
        "recipients": (),
        "nonce": bytes(range(16)),
        "licence": None,
        "document_name": "cube.gcode",
    }
    fields.update(changes)
    return env.Manifest(**fields)


def header_block(manifest_bytes: bytes, signer: env.SecretKey = Keys.author,
                 padding_byte: int | None = None) -> bytes:
    """A signed header block; optionally with a non-zero last padding byte."""
    block = env.encode_header_block(manifest_bytes, signer.sign(env.signed_message(manifest_bytes)))
    if padding_byte is not None:
        block = block[:-1] + bytes([padding_byte])
    return block


def signed_block(manifest: env.Manifest, signer: env.SecretKey = Keys.author) -> bytes:
    return header_block(env.encode_manifest(manifest, validate=False), signer)


def craft_mode0(block: bytes, payload: bytes, preamble: bytes | None = None) -> bytes:
    """A mode-0 envelope from its parts."""
    return (preamble or env.encode_preamble(env.MODE_SIGNED)) + block + payload


@dataclasses.dataclass
class Mode1Parts:
    """The knobs of a crafted mode-1 envelope (defaults make a valid one)."""

    chunk_size: int = SMALL_CHUNK
    recipient: env.SecretKey = Keys.printer
    clear_recipient_id: bytes | None = None
    clear_length: int | None = None
    header_tag: int = env.TAG_MESSAGE
    chunk_tags: dict[int, int] = dataclasses.field(default_factory=dict)
    final_message: bool = True
    sealed_key: bytes | None = None


def craft_mode1(block: bytes, payload: bytes, parts: Mode1Parts = Mode1Parts()) -> bytes:
    """A mode-1 envelope from its parts, following §4.4 step by step."""
    content_key = os.urandom(32)
    stream = env.SecretStreamWriter(content_key)
    sealed = parts.sealed_key or sodium.crypto_box_seal(content_key, parts.recipient.public_key)
    clear = env.encode_preamble(env.MODE_ENCRYPTED) + env.encode_encryption_header(
        parts.clear_recipient_id or parts.recipient.key_id, parts.chunk_size,
        len(payload) if parts.clear_length is None else parts.clear_length, sealed, stream.header)
    out = [clear, stream.push(block, parts.header_tag, clear)]
    for index, start in enumerate(range(0, len(payload), parts.chunk_size)):
        tag = parts.chunk_tags.get(index, env.TAG_MESSAGE)
        out.append(stream.push(payload[start:start + parts.chunk_size], tag))
    if parts.final_message:
        out.append(stream.push(b"", env.TAG_FINAL))
    return b"".join(out)


def valid_mode1(payload: bytes, parts: Mode1Parts = Mode1Parts(), **manifest_changes) -> bytes:
    manifest = make_manifest(payload, encrypted=True, recipients=(parts.recipient.key_id,),
                             **manifest_changes)
    return craft_mode1(signed_block(manifest), payload, parts)


def valid_mode0(payload: bytes, **manifest_changes) -> bytes:
    return craft_mode0(signed_block(make_manifest(payload, **manifest_changes)), payload)


def read_bytes(data: bytes, policy: env.ReaderPolicy | None = None,
               sink: Callable[[bytes], object] | None = None) -> env.VerifiedEnvelope:
    return env.EnvelopeReader(io.BytesIO(data), policy or printer_policy(), sink).read()


def flip(data: bytes, offset: int) -> bytes:
    """`data` with the byte at `offset` inverted."""
    return data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1:]


# Ed25519 (RFC 8032): the group order L and the encoding of the neutral
# element (y = 1), a point of small order.
ED25519_ORDER = 2 ** 252 + 27742317777372353535851937790883648493
ED25519_IDENTITY = (1).to_bytes(32, "little")


def small_order_r_signature(key: env.SecretKey, manifest_bytes: bytes) -> bytes:
    """A signature by `key` whose R is the neutral element: S = k·a mod L.

    It satisfies the cofactorless equation [S]B = R + [k]A, so OpenSSL
    accepts it; libsodium refuses a small-order R (§3: not valid).
    """
    expanded = bytearray(hashlib.sha512(key.secret).digest()[:32])
    expanded[0] &= 248
    expanded[31] = (expanded[31] & 127) | 64
    scalar = int.from_bytes(expanded, "little")
    message = env.signed_message(manifest_bytes)
    k = int.from_bytes(hashlib.sha512(ED25519_IDENTITY + key.public_key + message).digest(),
                       "little") % ED25519_ORDER
    return ED25519_IDENTITY + (k * scalar % ED25519_ORDER).to_bytes(32, "little")


def non_canonical_s_signature(key: env.SecretKey, manifest_bytes: bytes) -> bytes:
    """A valid signature by `key` with S replaced by S + L (non-canonical)."""
    signature = key.sign(env.signed_message(manifest_bytes))
    s_value = int.from_bytes(signature[32:], "little") + ED25519_ORDER
    return signature[:32] + s_value.to_bytes(32, "little")


# The content types of §3's grammar, accepted and refused.
CONTENT_TYPES_ACCEPTED = ("text/x-gcode", "model/3mf", "a/b", "9/9", "text/x!#$&-^_.+",
                          "application/vnd.ipp3d.envelope", "x/" + "y" * 125)
CONTENT_TYPES_REFUSED = ("text/x-gcode;charset=utf-8", "text/x-gcode; a=b", "text", "text/",
                         "/x-gcode", "text/x/y", "-text/x", "text/-x", ".text/x", "text/.x",
                         "text/+x", "text/x*gcode", "text/x%gcode", "text/x~g", "text/x=g",
                         "text/x{g}", "text/x\"g", "text/x'g", "Text/x-gcode", "text/X-GCODE",
                         "text/x gcode", "text/x-gcode ", " text/x-gcode", "text/x-gcode\n",
                         "text//x")

# Key-file comments (raw bytes) and whether §2 allows them.
KEY_COMMENTS = (
    ("empty", b"", True),
    ("plain", b"Ada's printer", True),
    ("non-ASCII", "Ada’s Würfel – 20 mm".encode(), True),
    ("leading and trailing spaces", b"  a  ", True),
    ("C1 control U+0085", b"a\xc2\x85b", True),
    ("line separator U+2028", "a\u2028b".encode(), True),
    ("colon-space inside", b"a: b", True),
    ("tab", b"a\tb", False),
    ("NUL", b"a\x00b", False),
    ("ESC", b"a\x1bb", False),
    ("unit separator U+001F", b"a\x1fb", False),
    ("DEL", b"a\x7fb", False),
    ("CR", b"a\rb", False),
    ("invalid UTF-8", b"a\xffb", False),
    ("overlong UTF-8", b"a\xc0\xafb", False),
    ("surrogate", b"a\xed\xa0\x80b", False),
    ("above U+10FFFF", b"a\xf4\x90\x80\x80b", False),
)

# Document names (raw bytes) and whether §3 allows them.
DOCUMENT_NAMES = (
    ("largest code point U+10FFFF", b"\xf4\x8f\xbf\xbf", True),
    ("C1 control U+0085", b"a\xc2\x85b", True),
    ("C1 control U+009F", b"\xc2\x9f", True),
    ("noncharacter U+FFFE", b"\xef\xbf\xbe", True),
    ("byte order mark", b"\xef\xbb\xbfa", True),
    ("line separator U+2028", "a\u2028b".encode(), True),
    ("right-to-left override", "a\u202eb".encode(), True),
    ("empty", b"", True),
    ("overlong 2-byte '/'", b"\xc0\xaf", False),
    ("overlong NUL", b"\xc0\x80", False),
    ("overlong 3-byte", b"\xe0\x80\xaf", False),
    ("overlong 4-byte", b"\xf0\x80\x80\xaf", False),
    ("surrogate U+D800", b"\xed\xa0\x80", False),
    ("surrogate U+DFFF", b"\xed\xbf\xbf", False),
    ("above U+10FFFF", b"\xf4\x90\x80\x80", False),
    ("lead byte F5", b"\xf5\x80\x80\x80", False),
    ("lone continuation byte", b"a\x80b", False),
    ("sequence cut short", b"a\xc3", False),
    ("tab", b"a\tb", False),
    ("CR", b"a\rb", False),
    ("ESC", b"a\x1bb", False),
    ("DEL", b"a\x7fb", False),
)


def manifest_with_raw_name(manifest: env.Manifest, raw_name: bytes) -> bytes:
    """The encoding of `manifest` with its document name replaced by raw bytes."""
    encoded = env.encode_manifest(manifest, validate=False)
    name_length = len(manifest.document_name.encode("utf-8"))
    return encoded[:len(encoded) - name_length - 2] + struct.pack(">H", len(raw_name)) + raw_name


class TempDirTestCase(unittest.TestCase):
    """A test case with a fresh temporary directory in self.dir."""

    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ipp3d-interop-")
        self.dir = self._tmp.name

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def write(self, name: str, data: bytes, mode: int = 0o644) -> str:
        path = self.path(name)
        with open(path, "wb") as file:
            file.write(data)
        os.chmod(path, mode)
        return path

    def read(self, name: str) -> bytes:
        with open(self.path(name), "rb") as file:
            return file.read()


# --------------------------------------------------------------------------
# (a) Self tests
# --------------------------------------------------------------------------

class KeyIdTest(unittest.TestCase):
    def test_key_id_is_truncated_labelled_sha256(self):
        public = bytes(range(32))
        expected = hashlib.sha256(b"ipp3d-ed25519\x00" + public).digest()[:16]
        self.assertEqual(env.key_id(env.ED25519, public), expected)
        self.assertNotEqual(env.key_id(env.X25519, public), expected)

    def test_ed25519_public_key_is_derived_from_the_seed(self):
        # RFC 8032 §7.1, test 1.
        seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        self.assertEqual(env.derive_public_key(env.ED25519, seed), public)

    def test_x25519_public_key_is_derived_from_the_scalar(self):
        # RFC 7748 §6.1 (Alice).
        scalar = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        public = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        self.assertEqual(env.derive_public_key(env.X25519, scalar), public)

    def test_key_id_hex_is_lowercase_and_32_digits(self):
        self.assertEqual(env.parse_key_id_hex("00" * 16), bytes(16))
        for text in ("AB" * 16, "00" * 15, "00" * 17, "zz" * 16):
            with self.assertRaises(ValueError):
                env.parse_key_id_hex(text)


class KeyFileTest(TempDirTestCase):
    def test_public_key_file_round_trip_with_and_without_comment(self):
        for comment in (None, "Ada's key – Prusa MK4"):
            public = Keys.author.public(comment)
            text = env.format_public_key_file(public)
            self.assertEqual(env.parse_public_key_file(text), public)

    def test_public_key_file_layout(self):
        text = env.format_public_key_file(Keys.printer.public("c")).decode()
        self.assertRegex(text, r"\Aipp3d-public-key-v1\nalgorithm: x25519\nkey-id: [0-9a-f]{32}\n"
                               r"public-key: [A-Za-z0-9+/]{43}=\ncomment: c\n\Z")

    def test_unprotected_secret_key_file_round_trip(self):
        for key in (Keys.author, Keys.printer):
            text = env.format_secret_key_file(key)
            self.assertEqual(env.parse_secret_key_file(text), key)
            self.assertIn(b"protection: none\n", text)

    def test_protected_secret_key_file_round_trip(self):
        text = env.format_secret_key_file(Keys.author, "correct horse")
        lines = text.decode().split("\n")
        self.assertEqual(lines[4:8], ["protection: argon2id", lines[5], "kdf-opslimit: 3",
                                      "kdf-memlimit: 67108864"])
        self.assertEqual(env.parse_secret_key_file(text, "correct horse"), Keys.author)

    def test_protected_file_with_other_argon2_parameters_is_read(self):
        text = env.format_secret_key_file(Keys.printer, "pw", opslimit=1, memlimit=8192)
        self.assertEqual(env.parse_secret_key_file(text, "pw"), Keys.printer)

    def test_wrong_passphrase(self):
        text = env.format_secret_key_file(Keys.author, "right", opslimit=1, memlimit=8192)
        with self.assertRaisesRegex(env.WrongPassphrase, "wrong passphrase"):
            env.parse_secret_key_file(text, "wrong")

    def test_protected_file_binds_algorithm_and_public_key(self):
        text = env.format_secret_key_file(Keys.author, "pw", opslimit=1, memlimit=8192)
        other = env.SecretKey.generate(env.ED25519)
        forged = text.replace(env._b64(Keys.author.public_key).encode(),
                              env._b64(other.public_key).encode())
        forged = forged.replace(Keys.author.key_id.hex().encode(), other.key_id.hex().encode())
        with self.assertRaises(env.WrongPassphrase):
            env.parse_secret_key_file(forged, "pw")

    def test_argon2_parameters_out_of_range_are_refused_before_hashing(self):
        text = env.format_secret_key_file(Keys.author, "pw", opslimit=1, memlimit=8192).decode()
        for old, new in (("kdf-opslimit: 1", "kdf-opslimit: 11"),
                         ("kdf-opslimit: 1", "kdf-opslimit: 0"),
                         ("kdf-memlimit: 8192", "kdf-memlimit: 8191"),
                         ("kdf-memlimit: 8192", "kdf-memlimit: 268435457"),
                         ("kdf-opslimit: 1", "kdf-opslimit: 01")):
            with self.subTest(new), mock.patch.object(env, "_passphrase_key") as kdf:
                with self.assertRaisesRegex(env.KeyFileError, "line [78]"):
                    env.parse_secret_key_file(text.replace(old, new).encode(), "pw")
                kdf.assert_not_called()

    def test_malformed_key_files_are_refused_naming_the_line(self):
        good = env.format_secret_key_file(Keys.author).decode()
        lines = good.split("\n")
        public_b64 = lines[3].split(": ")[1]
        other = env.SecretKey.generate(env.ED25519)
        cases = {
            "no final LF": (good[:-1], "line feed"),
            "CRLF": (good.replace("\n", "\r\n"), "line 1"),
            "blank line": (good.replace("\nprotection", "\n\nprotection"), "line 5"),
            "swapped lines": ("\n".join([lines[0], lines[2], lines[1]] + lines[3:]), "line 2"),
            "extra line": (good + "comment: x\n", "line 7"),
            "unknown algorithm": (good.replace("ed25519", "ed448"), "line 2"),
            "uppercase key id": (good.replace(lines[2], lines[2].upper().replace("KEY-ID", "key-id")),
                                 "line 3"),
            "key id mismatch": (good.replace(lines[2], "key-id: " + other.key_id.hex()), "line 3"),
            "public key mismatch": (good.replace(public_b64, env._b64(other.public_key))
                                    .replace(lines[2], "key-id: " + other.key_id.hex()), "line 4"),
            "no padding": (good.replace(public_b64, public_b64.rstrip("=")), "line 4"),
            "short secret": (good.replace(lines[5], "secret-key: AAAA"), "line 6"),
            "missing space": (good.replace("protection: none", "protection:none"), "line 5"),
            "wrong format line": (good.replace("secret-key-v1", "public-key-v1"), "line 1"),
            "unknown protection": (good.replace("protection: none", "protection: rot13"), "line 5"),
            "truncated": ("\n".join(lines[:4]) + "\n", "line 5"),
        }
        for name, (text, where) in cases.items():
            with self.subTest(name), self.assertRaisesRegex(env.KeyFileError, where):
                env.parse_secret_key_file(text.encode())

    def test_non_canonical_base64_is_refused(self):
        good = env.format_public_key_file(Keys.author.public()).decode()
        encoded = env._b64(Keys.author.public_key)
        last = encoded[-2]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        # 32 bytes leave 2 unused bits in the last character: set one.
        twisted = encoded[:-2] + alphabet[alphabet.index(last) ^ 1] + "="
        with self.assertRaisesRegex(env.KeyFileError, "line 4"):
            env.parse_public_key_file(good.replace(encoded, twisted).encode())

    def test_comment_is_one_optional_line_of_public_files_only(self):
        text = env.format_public_key_file(Keys.author.public("first")) + b"comment: second\n"
        with self.assertRaisesRegex(env.KeyFileError, "line 6"):
            env.parse_public_key_file(text)
        text = env.format_secret_key_file(Keys.author) + b"comment: c\n"
        with self.assertRaisesRegex(env.KeyFileError, "line 7"):
            env.parse_secret_key_file(text)

    def test_write_key_pair_modes_and_refusal_of_readable_secret(self):
        path = self.path("author")
        env.write_key_pair(path, Keys.author, comment="me")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(env.read_secret_key_file(path), Keys.author)
        self.assertEqual(env.read_public_key_file(path + ".pub"), Keys.author.public("me"))
        for mode in (0o640, 0o604):
            os.chmod(path, mode)
            with self.subTest(oct(mode)), self.assertRaisesRegex(env.KeyFileError, "chmod 600"):
                env.read_secret_key_file(path)

    def test_write_key_pair_never_overwrites(self):
        path = self.path("k")
        env.write_key_pair(path, Keys.author)
        with self.assertRaisesRegex(env.KeyFileError, "exists"):
            env.write_key_pair(path, Keys.stranger)

    # Cases docs/envelope.md §2 decides since a0be5b8 ------------------------

    def test_empty_passphrase_means_not_protected(self):
        # §2: "An empty passphrase means 'not protected' (protection: none)."
        text = env.format_secret_key_file(Keys.author, "")
        self.assertEqual(text, env.format_secret_key_file(Keys.author))
        self.assertIn(b"protection: none\n", text)
        path = self.path("k")
        env.write_key_pair(path, Keys.author, passphrase="")
        self.assertIn(b"protection: none\n", self.read("k"))
        # A protected file never opens with the empty passphrase: it is taken
        # as no passphrase, and Argon2id does not run.
        protected = env.format_secret_key_file(Keys.author, "pw", opslimit=1, memlimit=8192)
        for passphrase in ("", None):
            with self.subTest(passphrase=passphrase), \
                    mock.patch.object(env, "_passphrase_key") as kdf:
                with self.assertRaisesRegex(env.KeyFileError, "passphrase is needed"):
                    env.parse_secret_key_file(protected, passphrase)
                kdf.assert_not_called()
        # An unprotected file ignores a passphrase.
        self.assertEqual(env.parse_secret_key_file(text, "anything"), Keys.author)

    def test_argon2_ranges_are_inclusive(self):
        text = env.format_secret_key_file(Keys.author, "pw", opslimit=1, memlimit=8192).decode()
        for opslimit, memlimit in ((1, 8192), (10, 8192), (1, 268435456)):
            edited = (text.replace("kdf-opslimit: 1\n", f"kdf-opslimit: {opslimit}\n")
                      .replace("kdf-memlimit: 8192\n", f"kdf-memlimit: {memlimit}\n"))
            with self.subTest(opslimit=opslimit, memlimit=memlimit), \
                    mock.patch.object(env, "_passphrase_key", return_value=bytes(32)) as kdf:
                # The (mocked) key is wrong, but the ranges were accepted.
                with self.assertRaises(env.WrongPassphrase):
                    env.parse_secret_key_file(edited.encode(), "pw")
                kdf.assert_called_once_with("pw", mock.ANY, opslimit, memlimit)
        with self.assertRaises(ValueError):
            env.format_secret_key_file(Keys.author, "pw", opslimit=11, memlimit=8192)

    def test_numbers_are_canonical_decimal(self):
        text = env.format_secret_key_file(Keys.author, "pw", opslimit=1, memlimit=8192).decode()
        bad_opslimits = ("+1", "-1", " 1", "1 ", "01", "0x1", "1.0", "1e0", "", "\u0661", "\uff11")
        bad_memlimits = ("08192", "8192 ", "+8192", "8_192", "8,192", "0x2000", "8192.0", "8 KiB")
        cases = ([("kdf-opslimit: 1\n", f"kdf-opslimit: {value}\n", value, "line 7")
                  for value in bad_opslimits]
                 + [("kdf-memlimit: 8192\n", f"kdf-memlimit: {value}\n", value, "line 8")
                    for value in bad_memlimits])
        for old, new, value, where in cases:
            with self.subTest(repr(value)), mock.patch.object(env, "_passphrase_key") as kdf:
                with self.assertRaisesRegex(env.KeyFileError, where):
                    env.parse_secret_key_file(text.replace(old, new).encode(), "pw")
                kdf.assert_not_called()

    def test_base64_has_one_canonical_form(self):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        plain = env.format_secret_key_file(Keys.author).decode()
        protected = env.format_secret_key_file(Keys.author, "pw", opslimit=1, memlimit=8192).decode()

        def value(text: str, name: str) -> str:
            return re.search(f"^{name}: (.*)$", text, re.MULTILINE).group(1)

        def variants(encoded: str):
            padding = len(encoded) - len(encoded.rstrip("="))
            if padding:  # 72 bytes fill whole base64 groups: no padding, no unused bits
                last = encoded[-padding - 1]
                # Set the lowest unused bit of the last digit before the padding.
                yield "unused bits set", (encoded[:-padding - 1]
                                          + alphabet[alphabet.index(last) | 1] + "=" * padding)
                yield "padding left out", encoded.rstrip("=")
            yield "extra padding", encoded + "="
            yield "space inside", encoded[:4] + " " + encoded[4:]
            yield "line break inside", encoded[:4] + "\n" + encoded[4:]
            yield "URL-safe alphabet", encoded.replace("+", "-").replace("/", "_") + "-"
            yield "trailing space", encoded + " "

        cases = [(plain, "public-key", "line 4"), (plain, "secret-key", "line 6"),
                 (protected, "kdf-salt", "line 6"), (protected, "secret-key", "line 9")]
        for text, name, where in cases:
            encoded = value(text, name)
            for what, changed in variants(encoded):
                with self.subTest(name=name, what=what), \
                        mock.patch.object(env, "_passphrase_key") as kdf:
                    with self.assertRaisesRegex(env.KeyFileError, where):
                        env.parse_secret_key_file(
                            text.replace(f"{name}: {encoded}\n", f"{name}: {changed}\n").encode(), "pw")
                    kdf.assert_not_called()

    def test_separator_is_exactly_colon_space(self):
        good = env.format_public_key_file(Keys.author.public("c")).decode()
        cases = {
            "no space": good.replace("algorithm: ", "algorithm:"),
            "two spaces": good.replace("algorithm: ", "algorithm:  "),
            "space before the colon": good.replace("algorithm: ", "algorithm : "),
            "tab": good.replace("algorithm: ", "algorithm:\t"),
            "upper-case name": good.replace("algorithm: ", "Algorithm: "),
            "upper-case value": good.replace("algorithm: ed25519", "algorithm: Ed25519"),
            "trailing space": good.replace("algorithm: ed25519", "algorithm: ed25519 "),
            "equals sign": good.replace("algorithm: ", "algorithm= "),
        }
        for name, text in cases.items():
            with self.subTest(name), self.assertRaisesRegex(env.KeyFileError, "line 2"):
                env.parse_public_key_file(text.encode())

    def test_comment_characters(self):
        # §2: UTF-8 without control characters (U+0000-U+001F, U+007F); may be empty.
        good = env.format_public_key_file(Keys.author.public())
        for name, raw, accepted in KEY_COMMENTS:
            text = good + b"comment: " + raw + b"\n"
            with self.subTest(name):
                if accepted:
                    comment = env.parse_public_key_file(text).comment
                    self.assertEqual(comment, raw.decode("utf-8"))
                    self.assertEqual(env.format_public_key_file(Keys.author.public(comment)), text)
                else:
                    with self.assertRaisesRegex(env.KeyFileError, "line 5"):
                        env.parse_public_key_file(text)
        for comment in ("a\tb", "a\x7fb", "a\nb", "a\ud800b"):
            with self.subTest(write=repr(comment)), self.assertRaises(ValueError):
                env.format_public_key_file(Keys.author.public(comment))

    def test_key_file_errors_name_the_line(self):
        good = env.format_public_key_file(Keys.author.public())
        cases = {
            "empty file": (b"", "line 1"),
            "invalid UTF-8 on line 2": (good.replace(b"algorithm", b"algo\xffrithm"), "line 2"),
            "byte order mark": (b"\xef\xbb\xbf" + good, "line 1"),
            "no final LF after line 4": (good[:-1], "line 4"),
            "comment without LF": (good + b"comment: x", "line 5"),
            "NUL byte on line 3": (good.replace(b"key-id: ", b"key-id: \x00"), "line 3"),
        }
        for name, (text, where) in cases.items():
            with self.subTest(name), self.assertRaisesRegex(env.KeyFileError, where):
                env.parse_public_key_file(text)

    def test_only_the_0044_bits_refuse_a_secret_key_file(self):
        path = self.path("author")
        env.write_key_pair(path, Keys.author)
        for mode in range(0o400, 0o1000):
            os.chmod(path, mode)
            refused = bool(mode & 0o044)
            with self.subTest(mode=oct(mode)):
                if refused:
                    with self.assertRaisesRegex(env.KeyFileError, "chmod 600"):
                        env.read_secret_key_file(path)
                else:
                    self.assertEqual(env.read_secret_key_file(path), Keys.author)


class ManifestTest(unittest.TestCase):
    def manifest(self, **changes) -> env.Manifest:
        return make_manifest(b"payload", **changes)

    def test_round_trip_of_every_field(self):
        manifests = [
            self.manifest(),
            self.manifest(encrypted=True, recipients=(Keys.printer.key_id,),
                          licence=env.Licence("Lic-2024_a.b", 1_000_000),
                          document_name="Würfel – 20 mm.gcode", created=-5, not_after=-4),
            self.manifest(recipients=tuple(sorted(bytes([i]) * 16 for i in range(16))),
                          document_name="n" * 255, content_type="x/" + "y" * 125,
                          payload_length=2 ** 40),
        ]
        for manifest in manifests:
            with self.subTest(manifest.document_name):
                self.assertEqual(env.decode_manifest(env.encode_manifest(manifest)), manifest)

    def test_byte_layout(self):
        manifest = self.manifest(licence=env.Licence("L", 2), recipients=(b"\x07" * 16,))
        expected = (b"\x01\x00" + b"\x0ctext/x-gcode" + struct.pack(">Q", 7)
                    + hashlib.sha256(b"payload").digest() + Keys.author.key_id
                    + struct.pack(">qq", NOW - 60, NOW + 3600) + b"\x01" + b"\x07" * 16
                    + bytes(range(16)) + b"\x01\x01L" + struct.pack(">I", 2)
                    + b"\x00\x0acube.gcode")
        self.assertEqual(env.encode_manifest(manifest), expected)

    def encoded(self, **changes) -> bytes:
        return env.encode_manifest(self.manifest(**changes), validate=False)

    def test_non_canonical_encodings_are_refused(self):
        good = env.encode_manifest(self.manifest())
        name_offset = len(good) - len("cube.gcode") - 2
        licence_offset = name_offset - 1
        cases = {
            "version 2": b"\x02" + good[1:],
            "unknown flag bit": good[:1] + b"\x02" + good[2:],
            "empty content type": self.encoded(content_type=""),
            "content type 128 bytes": self.encoded(content_type="a/" + "b" * 126),
            "upper-case content type": self.encoded(content_type="Text/X-Gcode"),
            "content type with space": self.encoded(content_type="text/x gcode"),
            "non-ASCII content type": good[:3] + b"\xe9" + good[4:],
            "payload over 2^40": self.encoded(payload_length=2 ** 40 + 1),
            "not-after == created": self.encoded(not_after=NOW - 60),
            "not-after < created": self.encoded(not_after=NOW - 61),
            "17 recipients": self.encoded(recipients=tuple(bytes([i]) * 16 for i in range(17))),
            "unsorted recipients": self.encoded(recipients=(b"\x02" * 16, b"\x01" * 16)),
            "repeated recipient": self.encoded(recipients=(b"\x01" * 16, b"\x01" * 16)),
            "encrypted without recipient": self.encoded(encrypted=True),
            "encrypted with two": self.encoded(encrypted=True,
                                               recipients=(b"\x01" * 16, b"\x02" * 16)),
            "licence flag 2": good[:licence_offset] + b"\x02" + good[licence_offset + 1:],
            "empty licence ID": self.encoded(licence=env.Licence("", 1)),
            "licence ID 65": self.encoded(licence=env.Licence("a" * 65, 1)),
            "licence ID space": self.encoded(licence=env.Licence("a b", 1)),
            "licence ID slash": self.encoded(licence=env.Licence("a/b", 1)),
            "zero copies": self.encoded(licence=env.Licence("a", 0)),
            "too many copies": self.encoded(licence=env.Licence("a", 1_000_001)),
            "name 256 bytes": self.encoded(document_name="n" * 256),
            "name with LF": self.encoded(document_name="a\nb"),
            "name with DEL": self.encoded(document_name="a\x7fb"),
            "name with NUL": self.encoded(document_name="a\x00b"),
            "name invalid UTF-8": good[:name_offset] + b"\x00\x02\xc3\x28",
            "name overlong UTF-8": good[:name_offset] + b"\x00\x02\xc0\xaf",
            "name surrogate": good[:name_offset] + b"\x00\x03\xed\xa0\x80",
            "byte left over": good + b"\x00",
            "cut short": good[:-1],
            "empty": b"",
        }
        for name, data in cases.items():
            with self.subTest(name), self.assertRaises(env.ManifestError):
                env.decode_manifest(data)

    def test_writer_refuses_what_readers_refuse(self):
        with self.assertRaises(env.ManifestError):
            env.encode_manifest(self.manifest(recipients=(b"\x02" * 16, b"\x01" * 16)))

    def test_signature_covers_domain_and_manifest(self):
        manifest_bytes = env.encode_manifest(self.manifest())
        signature = Keys.author.sign(b"ipp3d-envelope-v1/manifest\x00" + manifest_bytes)
        self.assertTrue(env.verify_signature(Keys.author.public_key, manifest_bytes, signature))
        self.assertFalse(env.verify_signature(Keys.author.public_key, manifest_bytes,
                                              Keys.author.sign(manifest_bytes)))

    # Cases docs/envelope.md §3 decides since a0be5b8 ------------------------

    def test_content_type_grammar(self):
        for content_type in CONTENT_TYPES_ACCEPTED:
            with self.subTest(content_type):
                manifest = self.manifest(content_type=content_type)
                self.assertEqual(env.decode_manifest(env.encode_manifest(manifest)), manifest)
        for content_type in CONTENT_TYPES_REFUSED:
            with self.subTest(content_type):
                with self.assertRaises(env.ManifestError):
                    env.decode_manifest(self.encoded(content_type=content_type))
                with self.assertRaises(env.ManifestError):
                    env.encode_manifest(self.manifest(content_type=content_type))

    def test_document_name_utf8_rules(self):
        manifest = self.manifest()
        for name, raw, allowed in DOCUMENT_NAMES:
            with self.subTest(name):
                data = manifest_with_raw_name(manifest, raw)
                if allowed:
                    self.assertEqual(env.decode_manifest(data).document_name, raw.decode("utf-8"))
                else:
                    with self.assertRaises(env.ManifestError):
                        env.decode_manifest(data)
        # A str with a lone surrogate has no UTF-8 form: the writer refuses it too.
        with self.assertRaisesRegex(env.ManifestError, "surrogate"):
            env.encode_manifest(self.manifest(document_name="a\ud800b"))

    def test_largest_manifest_and_the_4030_limit(self):
        largest = self.manifest(content_type="a/" + "b" * 125, recipients=tuple(
            sorted(bytes([i]) * 16 for i in range(16))), licence=env.Licence("L" * 64, 1),
            document_name="n" * 255)
        self.assertEqual(len(env.encode_manifest(largest)), 802)
        with self.assertRaisesRegex(env.ManifestError, "4030"):
            env.decode_manifest(env.encode_manifest(largest) + bytes(4031 - 802))

    def test_signature_verification_is_libsodiums(self):
        # §3: crypto_sign_verify_detached refuses non-canonical S, small-order
        # public keys and small-order R, where OpenSSL accepts the last two.
        manifest_bytes = env.encode_manifest(self.manifest())
        small_r = small_order_r_signature(Keys.author, manifest_bytes)
        self.assertTrue(env.verify_signature_openssl(Keys.author.public_key, manifest_bytes, small_r))
        self.assertFalse(env.verify_signature(Keys.author.public_key, manifest_bytes, small_r))
        trivial = ED25519_IDENTITY + bytes(32)  # R = neutral, S = 0: "valid" for A = neutral
        self.assertTrue(env.verify_signature_openssl(ED25519_IDENTITY, manifest_bytes, trivial))
        self.assertFalse(env.verify_signature(ED25519_IDENTITY, manifest_bytes, trivial))
        self.assertFalse(env.verify_signature(
            Keys.author.public_key, manifest_bytes, non_canonical_s_signature(Keys.author, manifest_bytes)))
        honest = Keys.author.sign(env.signed_message(manifest_bytes))  # OpenSSL signs
        self.assertTrue(env.verify_signature(Keys.author.public_key, manifest_bytes, honest))


PAYLOAD_SIZES = (0, 1, SMALL_CHUNK - 1, SMALL_CHUNK, SMALL_CHUNK + 1, 5 * SMALL_CHUNK + 3)
DEFAULT_CHUNK_SIZES = (0, 1, 65535, 65536, 65537, 3 * 65536 + 17)


class RoundTripTest(TempDirTestCase):
    """make_envelope then read/open, both modes, sizes around the chunk size."""

    def round_trip(self, payload: bytes, encrypt: bool, chunk_size: int) -> None:
        source = self.write("doc.gcode", payload)
        options = env.EnvelopeOptions(recipients=[Keys.printer.public()], encrypt=encrypt,
                                      document_name="doc.gcode", chunk_size=chunk_size,
                                      licence=env.Licence("L-1", 3) if encrypt else None)
        manifest = env.make_envelope(source, self.path("doc.ipp3d"), Keys.author, options)
        mode = env.MODE_ENCRYPTED if encrypt else env.MODE_SIGNED
        self.assertEqual(os.path.getsize(self.path("doc.ipp3d")),
                         env.envelope_size(mode, len(payload), chunk_size))
        policy = printer_policy(now=None)
        verified = env.open_envelope(self.path("doc.ipp3d"), policy, self.path("out"))
        self.assertEqual(self.read("out"), payload)
        self.assertEqual(verified.manifest, manifest)
        self.assertEqual(verified.mode, mode)
        self.assertEqual(manifest.payload_digest, hashlib.sha256(payload).digest())

    def test_mode0_sizes(self):
        for size in PAYLOAD_SIZES + DEFAULT_CHUNK_SIZES:
            with self.subTest(size=size):
                self.round_trip(document(size), encrypt=False, chunk_size=SMALL_CHUNK)

    def test_mode1_sizes_small_chunks(self):
        for size in PAYLOAD_SIZES:
            with self.subTest(size=size):
                self.round_trip(document(size), encrypt=True, chunk_size=SMALL_CHUNK)

    def test_mode1_sizes_writer_chunk(self):
        for size in DEFAULT_CHUNK_SIZES:
            with self.subTest(size=size):
                self.round_trip(document(size), encrypt=True, chunk_size=env.WRITER_CHUNK_SIZE)

    def test_mode1_largest_chunk(self):
        self.round_trip(document(1048576 + 5), encrypt=True, chunk_size=1048576)

    def test_unaddressed_and_multi_addressed_mode0(self):
        payload = document(100)
        source = self.write("doc", payload)
        printers = [Keys.printer.public(), Keys.other_printer.public()]
        for recipients in ([], printers):
            with self.subTest(recipients=len(recipients)):
                manifest = env.make_envelope(source, self.path("e"), Keys.author,
                                             env.EnvelopeOptions(recipients=recipients))
                self.assertEqual(list(manifest.recipients), sorted(manifest.recipients))
                read_bytes(self.read("e"), printer_policy(now=None))

    def test_mode1_content_key_and_stream_header_are_fresh(self):
        source = self.write("doc", document(10))
        options = env.EnvelopeOptions(recipients=[Keys.printer.public()], encrypt=True)
        env.make_envelope(source, self.path("a"), Keys.author, options)
        env.make_envelope(source, self.path("b"), Keys.author, options)
        self.assertNotEqual(self.read("a")[40:144], self.read("b")[40:144])

    def test_mode0_is_deterministic_with_fixed_nonce_and_times(self):
        source = self.write("doc", document(500))
        options = env.EnvelopeOptions(nonce=bytes(16), created=1_700_000_000,
                                      not_after=1_700_086_400, document_name="d")
        env.make_envelope(source, self.path("a"), Keys.author, options)
        env.make_envelope(source, self.path("b"), Keys.author, options)
        self.assertEqual(self.read("a"), self.read("b"))
        self.assertEqual(self.read("a")[:12], b"IPP3DENV\x01\x00\x00\x00")

    def test_reader_memory_is_bounded_by_one_chunk(self):
        payload = document(3 * 1048576 + 11)
        for data, limit in ((valid_mode0(payload), env.READ_PIECE_SIZE),
                            (valid_mode1(payload, Mode1Parts(chunk_size=65536)),
                             65536 + env.STREAM_ABYTES)):
            stream = ReadSizeRecorder(data)
            sizes = []
            env.EnvelopeReader(stream, printer_policy(), lambda piece: sizes.append(len(piece))).read()
            self.assertLessEqual(stream.largest_read, max(limit, env.HEADER_BLOCK_SIZE + 17))
            self.assertLessEqual(max(sizes), limit)
            self.assertEqual(sum(sizes), len(payload))


class ReadSizeRecorder(io.BytesIO):
    """A byte stream that remembers its largest read and refuses unbounded ones."""

    largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("unbounded read")
        self.largest_read = max(self.largest_read, size)
        return super().read(size)


class WriterTest(TempDirTestCase):
    def test_document_changed_between_reads_leaves_no_output(self):
        source = self.write("doc", document(3000))
        real_digest = env.digest_file

        def first_read_then_change(path):
            result = real_digest(path)
            with open(path, "r+b") as file:
                first = file.read(1)
                file.seek(0)
                file.write(bytes([first[0] ^ 1]))
            return result

        with mock.patch.object(env, "digest_file", first_read_then_change):
            for encrypt in (False, True):
                options = env.EnvelopeOptions(recipients=[Keys.printer.public()], encrypt=encrypt)
                with self.subTest(encrypt=encrypt), self.assertRaisesRegex(env.EnvelopeWriteError,
                                                                           "changed"):
                    env.make_envelope(source, self.path("out"), Keys.author, options)
        self.assertEqual(os.listdir(self.dir), ["doc"])

    def test_document_grown_between_reads_is_refused(self):
        source = self.write("doc", document(3000))
        real_digest = env.digest_file

        def first_read_then_grow(path):
            result = real_digest(path)
            with open(path, "ab") as file:
                file.write(b"\n")
            return result

        with mock.patch.object(env, "digest_file", first_read_then_grow):
            with self.assertRaisesRegex(env.EnvelopeWriteError, "changed"):
                env.make_envelope(source, self.path("out"), Keys.author)
        self.assertFalse(os.path.exists(self.path("out")))

    def test_pipe_is_refused(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        with self.assertRaisesRegex(env.EnvelopeWriteError, "save it to a file first"):
            env.make_envelope(fifo, self.path("out"), Keys.author)

    def test_encryption_needs_exactly_one_printer(self):
        source = self.write("doc", b"G28\n")
        for recipients in ([], [Keys.printer.public(), Keys.other_printer.public()]):
            options = env.EnvelopeOptions(recipients=recipients, encrypt=True)
            with self.subTest(n=len(recipients)), self.assertRaises(env.EnvelopeWriteError):
                env.make_envelope(source, self.path("out"), Keys.author, options)

    def test_recipient_must_be_an_x25519_key(self):
        source = self.write("doc", b"G28\n")
        options = env.EnvelopeOptions(recipients=[Keys.stranger.public()])
        with self.assertRaisesRegex(env.EnvelopeWriteError, "X25519"):
            env.make_envelope(source, self.path("out"), Keys.author, options)


class RefusalTest(unittest.TestCase):
    """One or more crafted envelopes per refusal reason of §6."""

    payload = document(3 * SMALL_CHUNK + 100)

    def assertRefused(self, reason: str, data: bytes, policy: env.ReaderPolicy | None = None):
        with self.assertRaises(env.EnvelopeRefused) as caught:
            read_bytes(data, policy)
        self.assertEqual(caught.exception.reason, reason, caught.exception.detail)

    def test_valid_envelopes_are_accepted(self):
        read_bytes(valid_mode0(self.payload))
        read_bytes(valid_mode1(self.payload))

    # Step 1 and 3: malformed ------------------------------------------------

    def test_malformed_preamble(self):
        good = valid_mode0(self.payload)
        cases = {
            "bad magic": b"IPP3DENX" + good[8:],
            "version 2": good[:8] + b"\x02" + good[9:],
            "mode 2": good[:9] + b"\x02" + good[10:],
            "reserved": good[:11] + b"\x01" + good[12:],
            "empty file": b"",
            "short file not starting with the magic": b"IPP4",
        }
        for name, data in cases.items():
            with self.subTest(name):
                self.assertRefused(env.MALFORMED, data)

    def test_malformed_header_block(self):
        manifest_bytes = env.encode_manifest(make_manifest(self.payload))
        signature = Keys.author.sign(env.signed_message(manifest_bytes))
        too_long = struct.pack(">H", 4031) + manifest_bytes + signature
        cases = {
            "non-zero padding": header_block(manifest_bytes, padding_byte=1),
            "manifest length 0": b"\x00\x00" + bytes(4094),
            "manifest length 4031": too_long + bytes(4096 - len(too_long)),
            "manifest byte left over": header_block(manifest_bytes + b"\x00"),
            "manifest version 2": header_block(b"\x02" + manifest_bytes[1:]),
            "flags say encrypted in mode 0": signed_block(make_manifest(
                self.payload, encrypted=True, recipients=(Keys.printer.key_id,))),
        }
        for name, block in cases.items():
            with self.subTest(name):
                self.assertRefused(env.MALFORMED, craft_mode0(block, self.payload))

    def test_malformed_mode1(self):
        payload = self.payload
        plain_flags = make_manifest(payload, recipients=(Keys.printer.key_id,))
        other_recipient = make_manifest(payload, encrypted=True,
                                        recipients=(Keys.other_printer.key_id,))
        cases = {
            "flags 0 in mode 1": craft_mode1(signed_block(plain_flags), payload),
            "signed recipient is not the clear one": craft_mode1(signed_block(other_recipient),
                                                                 payload),
            "clear length differs": valid_mode1(payload, Mode1Parts(clear_length=len(payload) + 1)),
            "chunk size 1023": valid_mode1(payload, Mode1Parts(chunk_size=1023)),
            "chunk size 1048577": valid_mode1(payload, Mode1Parts(chunk_size=1048577)),
            "header message tagged PUSH": valid_mode1(payload, Mode1Parts(header_tag=1)),
            "chunk tagged PUSH": valid_mode1(self.payload, Mode1Parts(chunk_tags={0: 1})),
            "chunk tagged REKEY": valid_mode1(self.payload, Mode1Parts(chunk_tags={2: 2})),
        }
        for name, data in cases.items():
            with self.subTest(name):
                self.assertRefused(env.MALFORMED, data)

    # Step 2 -------------------------------------------------------------------

    def test_wrong_recipient(self):
        payload = self.payload
        addressed_elsewhere = valid_mode0(payload, recipients=(Keys.other_printer.key_id,))
        cases = [
            ("mode 1 to another printer", valid_mode1(payload, Mode1Parts(recipient=Keys.other_printer)),
             printer_policy()),
            ("mode 1, reader has another printer's key ID only", valid_mode1(payload),
             printer_policy(printer_key=None, printer_key_id=Keys.other_printer.key_id)),
            ("mode 0 addressed elsewhere", addressed_elsewhere, printer_policy()),
            ("mode 0 addressed elsewhere, key ID only", addressed_elsewhere,
             printer_policy(printer_key=None, printer_key_id=Keys.printer.key_id)),
            ("mode 0 unaddressed, refused by policy", valid_mode0(payload),
             printer_policy(accept_unaddressed=False)),
        ]
        for name, data, policy in cases:
            with self.subTest(name):
                self.assertRefused(env.WRONG_RECIPIENT, data, policy)

    def test_recipient_checks_pass(self):
        among = tuple(sorted((Keys.printer.key_id, Keys.other_printer.key_id)))
        read_bytes(valid_mode0(self.payload, recipients=among))
        read_bytes(valid_mode0(self.payload, recipients=among),
                   printer_policy(printer_key=None, printer_key_id=Keys.printer.key_id))
        read_bytes(valid_mode0(self.payload, recipients=(Keys.other_printer.key_id,)),
                   printer_policy(printer_key=None))

    def test_cannot_decrypt(self):
        payload = self.payload
        good = valid_mode1(payload)
        impostor = env.SecretKey(env.X25519, Keys.other_printer.secret, Keys.printer.public_key)
        cases = [
            ("sealed key altered", flip(good, 12 + 28 + 40), printer_policy()),
            ("stream header altered", flip(good, 12 + 108 + 3), printer_policy()),
            ("message 1 altered", flip(good, 144 + 2000), printer_policy()),
            ("associated data altered (chunk size)",
             good[:12 + 16] + struct.pack(">I", 2048) + good[12 + 20:], printer_policy()),
            ("sealed to another key", valid_mode1(payload, Mode1Parts(
                sealed_key=sodium.crypto_box_seal(os.urandom(32), Keys.other_printer.public_key))),
             printer_policy()),
            ("wrong secret for this key ID", good, printer_policy(printer_key=impostor)),
            ("reader has no printer key", good, printer_policy(printer_key=None)),
            ("reader has the key ID but no secret key", good,
             printer_policy(printer_key=None, printer_key_id=Keys.printer.key_id)),
        ]
        for name, data, policy in cases:
            with self.subTest(name):
                self.assertRefused(env.CANNOT_DECRYPT, data, policy)

    # Step 4 -------------------------------------------------------------------

    def test_unknown_signer(self):
        block = signed_block(make_manifest(self.payload, signer_key_id=Keys.stranger.key_id),
                             Keys.stranger)
        self.assertRefused(env.UNKNOWN_SIGNER, craft_mode0(block, self.payload))
        self.assertRefused(env.UNKNOWN_SIGNER, valid_mode0(self.payload),
                           printer_policy(trusted_signers={}))

    def test_bad_signature(self):
        manifest = make_manifest(self.payload)
        block = signed_block(manifest)
        signature_offset = 2 + len(env.encode_manifest(manifest))
        forged = signed_block(manifest, Keys.stranger)  # claims the author, signed by another
        wrong_domain_bytes = env.encode_manifest(manifest)
        no_domain = env.encode_header_block(wrong_domain_bytes, Keys.author.sign(wrong_domain_bytes))
        cases = {
            "signature bit flipped": flip(block, signature_offset + 5),
            "manifest changed after signing": env.encode_header_block(
                env.encode_manifest(dataclasses.replace(manifest, nonce=bytes(16))),
                block[signature_offset:signature_offset + 64]),
            "signed by another key": forged,
            "signed without the domain prefix": no_domain,
        }
        for name, bad_block in cases.items():
            with self.subTest(name):
                self.assertRefused(env.BAD_SIGNATURE, craft_mode0(bad_block, self.payload))
        encrypted = make_manifest(self.payload, encrypted=True, recipients=(Keys.printer.key_id,))
        self.assertRefused(env.BAD_SIGNATURE,
                           craft_mode1(signed_block(encrypted, Keys.stranger), self.payload))

    # Steps 5-6 ----------------------------------------------------------------

    def test_times(self):
        cases = [
            (env.NOT_YET_VALID, dict(created=NOW + 301, not_after=NOW + 4000)),
            (env.EXPIRED, dict(created=NOW - 100, not_after=NOW)),
            (env.EXPIRED, dict(created=NOW - 100, not_after=NOW - 1)),
            (env.LIFETIME_TOO_LONG, dict(created=NOW - 10, not_after=NOW - 10 + 3601)),
        ]
        policy = printer_policy(max_lifetime=3600)
        for reason, times in cases:
            with self.subTest(reason, **times):
                self.assertRefused(reason, valid_mode0(self.payload, **times), policy)
                self.assertRefused(reason, valid_mode1(self.payload, **times), policy)

    def test_time_boundaries_accepted(self):
        policy = printer_policy(max_lifetime=3600)
        read_bytes(valid_mode0(self.payload, created=NOW + 300, not_after=NOW + 3900), policy)
        read_bytes(valid_mode0(self.payload, created=NOW - 10, not_after=NOW + 1), policy)
        read_bytes(valid_mode0(self.payload, created=NOW - 10, not_after=NOW + 3590), policy)

    def test_reader_policy_limits(self):
        self.assertRefused(env.TOO_LARGE, valid_mode0(self.payload),
                           printer_policy(max_payload_length=len(self.payload) - 1))
        read_bytes(valid_mode0(self.payload), printer_policy(max_payload_length=len(self.payload)))
        self.assertRefused(env.UNSUPPORTED_CONTENT, valid_mode0(self.payload, content_type="model/3mf"),
                           printer_policy(accepted_content_types=frozenset({"text/x-gcode"})))

    # Step 9 -------------------------------------------------------------------

    def test_truncated(self):
        mode0 = valid_mode0(self.payload)
        mode1 = valid_mode1(self.payload)
        early_final = valid_mode1(self.payload, Mode1Parts(chunk_tags={3: env.TAG_FINAL},
                                                           final_message=False))
        cases = {
            "mode 0 without its last byte": mode0[:-1],
            "mode 0 without payload": mode0[:4108],
            "mode 1 without the final message": mode1[:-17],
            "mode 1 cut inside the final message": mode1[:-5],
            "mode 1 cut inside a chunk": mode1[:4257 + 500],
            "mode 1 cut after message 1": mode1[:4257],
            "mode 1 with TAG_FINAL on the last chunk": early_final,
            "mode 1 with TAG_FINAL too early": valid_mode1(
                self.payload, Mode1Parts(chunk_tags={1: env.TAG_FINAL})),
            "mode 0 cut inside the preamble": mode0[:7],
            "mode 0 cut inside the header block": mode0[:3000],
            "mode 1 cut inside the encryption header": mode1[:100],
            "mode 1 cut inside message 1": mode1[:4000],
            "mode 1 with TAG_FINAL on message 1": valid_mode1(
                self.payload, Mode1Parts(header_tag=env.TAG_FINAL)),
            "mode 1 of whole chunks without the final message": valid_mode1(
                self.payload[:2 * SMALL_CHUNK], Mode1Parts(final_message=False)),
        }
        for name, data in cases.items():
            with self.subTest(name):
                self.assertRefused(env.TRUNCATED, data)

    def test_final_message_with_wrong_tag_is_truncation(self):
        payload = self.payload[:2 * SMALL_CHUNK]
        manifest = make_manifest(payload, encrypted=True, recipients=(Keys.printer.key_id,))
        data = craft_mode1_with_tail(signed_block(manifest), payload, env.TAG_MESSAGE)
        self.assertRefused(env.TRUNCATED, data)

    def test_tampered(self):
        mode1 = valid_mode1(self.payload)
        chunk = SMALL_CHUNK + 17
        first = 4257
        chunks = [mode1[first + i * chunk:first + (i + 1) * chunk] for i in range(3)]
        rest = mode1[first + 3 * chunk:]
        cases = {
            "chunk byte flipped": flip(mode1, first + 100),
            "final message flipped": flip(mode1, len(mode1) - 3),
            "chunks swapped": mode1[:first] + chunks[1] + chunks[0] + chunks[2] + rest,
            "chunk dropped": mode1[:first] + chunks[0] + chunks[2] + rest + bytes(chunk),
            "chunk repeated": mode1[:first] + chunks[0] + chunks[0] + chunks[1] + chunks[2] + rest,
        }
        for name, data in cases.items():
            with self.subTest(name):
                self.assertRefused(env.TAMPERED, data)

    def test_trailing_data(self):
        for name, data in (("mode 0", valid_mode0(self.payload)),
                           ("mode 1", valid_mode1(self.payload)),
                           ("mode 0 empty", valid_mode0(b"")),
                           ("mode 1 empty", valid_mode1(b""))):
            with self.subTest(name):
                self.assertRefused(env.TRAILING_DATA, data + b"\x00")
        extended = valid_mode1(self.payload) + valid_mode1(self.payload)[4257:]
        self.assertRefused(env.TRAILING_DATA, extended)

    def test_digest_mismatch(self):
        manifest = make_manifest(self.payload, payload_digest=hashlib.sha256(b"other").digest())
        self.assertRefused(env.DIGEST_MISMATCH, craft_mode0(signed_block(manifest), self.payload))
        self.assertRefused(env.DIGEST_MISMATCH, flip(valid_mode0(self.payload), 5000))
        encrypted = dataclasses.replace(manifest, encrypted=True, recipients=(Keys.printer.key_id,))
        self.assertRefused(env.DIGEST_MISMATCH, craft_mode1(signed_block(encrypted), self.payload))

    def test_refusal_before_payload_delivers_nothing(self):
        delivered = []
        with self.assertRaises(env.EnvelopeRefused):
            read_bytes(valid_mode1(self.payload), printer_policy(trusted_signers={}),
                       delivered.append)
        self.assertEqual(delivered, [])

    # Cases docs/envelope.md §4.4 and §6 decide since a0be5b8 ------------------

    def test_too_large_is_refused_at_step_3(self):
        # §6 step 3: the reader's own payload limit, before steps 4-8.
        small = printer_policy(max_payload_length=len(self.payload) - 1)
        stranger_block = signed_block(make_manifest(self.payload, signer_key_id=Keys.stranger.key_id),
                                      Keys.stranger)
        cases = {
            "mode 0": valid_mode0(self.payload),
            "mode 1": valid_mode1(self.payload),
            "and an unknown signer": craft_mode0(stranger_block, self.payload),
            "and a bad signature": craft_mode0(signed_block(make_manifest(self.payload),
                                                            Keys.stranger), self.payload),
            "and addressed elsewhere": valid_mode0(self.payload,
                                                   recipients=(Keys.other_printer.key_id,)),
            "and expired": valid_mode0(self.payload, created=NOW - 7200, not_after=NOW - 3600),
            "and not yet valid": valid_mode0(self.payload, created=NOW + 3600, not_after=NOW + 7200),
            "and an unsupported content type": valid_mode0(self.payload, content_type="model/3mf"),
            "and a digest mismatch": flip(valid_mode0(self.payload), 5000),
            "and truncated in the payload": valid_mode0(self.payload)[:-1],
        }
        policy = dataclasses.replace(small, accepted_content_types=frozenset({"text/x-gcode"}))
        for name, data in cases.items():
            with self.subTest(name):
                delivered = []
                with self.assertRaises(env.EnvelopeRefused) as caught:
                    read_bytes(data, policy, delivered.append)
                self.assertEqual(caught.exception.reason, env.TOO_LARGE, caught.exception.detail)
                self.assertEqual(delivered, [])
        # Steps 1-3 (malformed) and 2 (cannot-decrypt) still come first.
        self.assertRefused(env.MALFORMED, valid_mode0(self.payload, content_type="Text/X"), small)
        self.assertRefused(env.MALFORMED, valid_mode1(
            self.payload, Mode1Parts(clear_length=len(self.payload) + 1)), small)
        self.assertRefused(env.CANNOT_DECRYPT, flip(valid_mode1(self.payload), 144 + 100), small)

    def test_signature_rules_of_libsodium(self):
        manifest = make_manifest(self.payload)
        manifest_bytes = env.encode_manifest(manifest)
        for name, signature in (
                ("small-order R", small_order_r_signature(Keys.author, manifest_bytes)),
                ("non-canonical S", non_canonical_s_signature(Keys.author, manifest_bytes))):
            with self.subTest(name):
                block = env.encode_header_block(manifest_bytes, signature)
                self.assertRefused(env.BAD_SIGNATURE, craft_mode0(block, self.payload))
        # A trusted small-order public key: R = neutral, S = 0 solves OpenSSL's equation.
        neutral = env.PublicKey(env.ED25519, ED25519_IDENTITY)
        weak_bytes = env.encode_manifest(make_manifest(self.payload, signer_key_id=neutral.key_id))
        block = env.encode_header_block(weak_bytes, ED25519_IDENTITY + bytes(32))
        self.assertRefused(env.BAD_SIGNATURE, craft_mode0(block, self.payload),
                           printer_policy(trusted_signers=env.trust_store([neutral])))

    def test_step_9_checks_come_in_order(self):
        # §6 step 9: tampered, truncated, trailing-data, digest-mismatch.
        mode0 = valid_mode0(self.payload)
        mode1 = valid_mode1(self.payload)
        cases = [
            (env.TRAILING_DATA, "mode 0 altered, plus a byte", flip(mode0, 5000) + b"\n"),
            (env.TRUNCATED, "mode 0 altered, minus a byte", flip(mode0, 5000)[:-1]),
            (env.TAMPERED, "mode 1 chunk altered, plus a byte", flip(mode1, 4257 + 10) + b"\n"),
            (env.TAMPERED, "mode 1 chunk altered, final message cut", flip(mode1, 4257 + 10)[:-5]),
            (env.TRUNCATED, "mode 1 final message missing, signed digest wrong",
             valid_mode1(self.payload, Mode1Parts(final_message=False), payload_digest=bytes(32))),
            (env.TRAILING_DATA, "mode 1 plus a byte, signed digest wrong",
             valid_mode1(self.payload, payload_digest=bytes(32)) + b"\n"),
        ]
        for reason, name, data in cases:
            with self.subTest(name):
                self.assertRefused(reason, data)

    def test_input_ending_early_is_truncated_wherever_it_ends(self):
        # §6: only an empty input, or one whose first bytes are not (a prefix
        # of) the magic, is malformed; any other early end is truncated,
        # even when the bytes present would be refused later for another reason.
        mode0 = valid_mode0(self.payload)
        elsewhere = valid_mode1(self.payload, Mode1Parts(recipient=Keys.other_printer))
        truncated = {
            "1 byte of the magic": mode0[:1],
            "the magic only": mode0[:8],
            "9 bytes, version 2": mode0[:8] + b"\x02",
            "11 bytes, mode 7": mode0[:9] + b"\x07\x00",
            "preamble only": mode0[:12],
            "mode 1 to another printer, cut inside the encryption header": elsewhere[:12 + 20],
            "mode 1 with message 1 altered, cut inside message 1": flip(
                valid_mode1(self.payload), 144 + 100)[:1000],
            "mode 0 with a malformed manifest, cut inside the header block": valid_mode0(
                self.payload, content_type="Text/X")[:200],
        }
        for name, data in truncated.items():
            with self.subTest(name):
                self.assertRefused(env.TRUNCATED, data)
        for name, data in {"empty": b"", "1 wrong byte": b"X", "IPP4": b"IPP4",
                           "lower-case magic": b"ipp3denv" + mode0[8:]}.items():
            with self.subTest(name):
                self.assertRefused(env.MALFORMED, data)
        # Each part (preamble, encryption header, message 1) is read whole
        # before it is checked, but step 2 checks the recipient and opens the
        # sealed key before it reads message 1 (the C++ reader agrees; see
        # README, remaining ambiguities).
        self.assertRefused(env.WRONG_RECIPIENT, elsewhere[:1000])
        self.assertRefused(env.WRONG_RECIPIENT, elsewhere[:144])
        self.assertRefused(env.CANNOT_DECRYPT, flip(valid_mode1(self.payload), 12 + 28 + 40)[:1000])

    def test_message_tags(self):
        # §4.4: TAG_FINAL before the final message (message 1 included) or another
        # tag on the final message is truncated; TAG_PUSH/TAG_REKEY on message 1
        # or a payload chunk is malformed. Message 1's tag is known at step 2,
        # so it comes before the checks of steps 3-8; a chunk's only at step 9.
        stranger_parts = Mode1Parts()

        def by_stranger(parts: Mode1Parts) -> bytes:
            manifest = make_manifest(self.payload, encrypted=True, recipients=(Keys.printer.key_id,),
                                     signer_key_id=Keys.stranger.key_id)
            return craft_mode1(signed_block(manifest, Keys.stranger), self.payload, parts)

        cases = [
            (env.TRUNCATED, "message 1 FINAL", valid_mode1(self.payload, Mode1Parts(header_tag=3))),
            (env.MALFORMED, "message 1 PUSH", valid_mode1(self.payload, Mode1Parts(header_tag=1))),
            (env.MALFORMED, "message 1 REKEY", valid_mode1(self.payload, Mode1Parts(header_tag=2))),
            (env.MALFORMED, "chunk 1 PUSH", valid_mode1(self.payload, Mode1Parts(chunk_tags={0: 1}))),
            (env.MALFORMED, "last chunk REKEY", valid_mode1(self.payload, Mode1Parts(chunk_tags={3: 2}))),
            (env.TRUNCATED, "chunk 2 FINAL", valid_mode1(self.payload, Mode1Parts(chunk_tags={1: 3}))),
            (env.TRUNCATED, "message 1 FINAL, unknown signer",
             by_stranger(dataclasses.replace(stranger_parts, header_tag=3))),
            (env.TRUNCATED, "message 1 FINAL, expired", valid_mode1(
                self.payload, Mode1Parts(header_tag=3), created=NOW - 7200, not_after=NOW - 3600)),
            (env.TRUNCATED, "message 1 FINAL, chunk size 1023",
             valid_mode1(self.payload, Mode1Parts(header_tag=3, chunk_size=1023))),
            (env.MALFORMED, "message 1 PUSH, unknown signer",
             by_stranger(dataclasses.replace(stranger_parts, header_tag=1))),
            (env.UNKNOWN_SIGNER, "chunk 1 PUSH, unknown signer",
             by_stranger(dataclasses.replace(stranger_parts, chunk_tags={0: 1}))),
            (env.EXPIRED, "chunk 1 FINAL, expired", valid_mode1(
                self.payload, Mode1Parts(chunk_tags={0: 3}), created=NOW - 7200, not_after=NOW - 3600)),
        ]
        for reason, name, data in cases:
            with self.subTest(name):
                self.assertRefused(reason, data)
        for tag in (env.TAG_MESSAGE, 1, 2):
            with self.subTest(final_tag=tag):
                manifest = make_manifest(self.payload, encrypted=True, recipients=(Keys.printer.key_id,))
                self.assertRefused(env.TRUNCATED, craft_mode1_with_tail(
                    signed_block(manifest), self.payload, tag))


def craft_mode1_with_tail(block: bytes, payload: bytes, tail_tag: int) -> bytes:
    """A mode-1 envelope whose last (empty) message carries `tail_tag`."""
    content_key = os.urandom(32)
    stream = env.SecretStreamWriter(content_key)
    clear = env.encode_preamble(env.MODE_ENCRYPTED) + env.encode_encryption_header(
        Keys.printer.key_id, SMALL_CHUNK, len(payload),
        sodium.crypto_box_seal(content_key, Keys.printer.public_key), stream.header)
    out = [clear, stream.push(block, env.TAG_MESSAGE, clear)]
    out += [stream.push(payload[i:i + SMALL_CHUNK]) for i in range(0, len(payload), SMALL_CHUNK)]
    out.append(stream.push(b"", tail_tag))
    return b"".join(out)


class CommandLineTest(TempDirTestCase):
    """The command-line tool end to end (as a separate process)."""

    def run_tool(self, *args: str, env_vars: dict | None = None) -> subprocess.CompletedProcess:
        environment = dict(os.environ, **(env_vars or {}))
        return subprocess.run([PYTHON, SCRIPT, *args], cwd=self.dir, env=environment,
                              capture_output=True, text=True, timeout=120)

    def test_keygen_sign_verify_open(self):
        self.assertEqual(self.run_tool("keygen", "--out", "author").returncode, 0)
        result = self.run_tool("keygen", "--out", "printer", "--algorithm", "x25519",
                               "--passphrase-env", "PP", env_vars={"PP": "s3cret"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("s3cret", result.stdout + result.stderr)
        self.write("doc.gcode", document(70000))
        result = self.run_tool("sign", "--key", "author", "doc.gcode", "-o", "doc.ipp3d",
                               "--for", "printer.pub", "--encrypt", "--copies", "2",
                               "--licence", "L1", "--expires", "3600", "--name", "Cube")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.run_tool("open", "--trust", "author.pub", "doc.ipp3d", "--key", "printer",
                               "--passphrase-env", "PP", "-o", "plain", env_vars={"PP": "s3cret"})
        self.assertEqual(result.returncode, 0, result.stderr)
        claims = json.loads(result.stdout)
        self.assertEqual((claims["mode"], claims["document_name"], claims["licence"]),
                         (1, "Cube", {"id": "L1", "copies": 2}))
        self.assertEqual(claims["not_after"] - claims["created"], 3600)
        self.assertEqual(self.read("plain"), document(70000))

    def test_refusal_prints_keyword_and_exits_1(self):
        self.run_tool("keygen", "--out", "author")
        self.run_tool("keygen", "--out", "stranger")
        self.write("doc.gcode", document(10))
        self.run_tool("sign", "--key", "author", "doc.gcode", "-o", "doc.ipp3d")
        result = self.run_tool("verify", "--trust", "stranger.pub", "doc.ipp3d")
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("unknown-signer:"), result.stderr)
        with open(self.path("doc.ipp3d"), "ab") as file:
            file.write(b"!")
        result = self.run_tool("open", "--trust", "author.pub", "doc.ipp3d", "-o", "plain")
        self.assertEqual((result.returncode, result.stderr.split(":")[0]), (1, "trailing-data"))
        self.assertFalse(os.path.exists(self.path("plain")))

    def test_empty_passphrase_is_refused_by_keygen(self):
        result = self.run_tool("keygen", "--out", "author", "--passphrase-env", "PP",
                               env_vars={"PP": ""})
        self.assertEqual(result.returncode, 2)
        self.assertIn("empty passphrase means not protected", result.stderr)
        self.assertFalse(os.path.exists(self.path("author")))

    def test_group_readable_secret_key_is_refused(self):
        self.run_tool("keygen", "--out", "author")
        os.chmod(self.path("author"), 0o644)
        self.write("doc.gcode", document(10))
        result = self.run_tool("sign", "--key", "author", "doc.gcode", "-o", "doc.ipp3d")
        self.assertEqual(result.returncode, 2)
        self.assertIn("chmod 600", result.stderr)


# --------------------------------------------------------------------------
# (b) The committed test vectors (tests/vectors/README.md)
# --------------------------------------------------------------------------

VECTOR_NOW = 1767312000
VECTOR_MAX_LIFETIME = 30 * 24 * 3600
VECTOR_PASSPHRASE = "correct horse battery staple"
VECTOR_DOCUMENT_SHA256 = "772a0b5b55740465543e2f2c5c63ad1d0c745660cbef7db66e3aad3ebac050d4"
VECTOR_SIGNED_SHA256 = "1911102a25eb062171964a18f0d631a3ea1f09b4738cc33f223d0ac1bd74ea07"
VECTOR_MANIFEST_HEX = (
    "01000c746578742f782d67636f64650000000000000c0f772a0b5b55740465543e2f2c5c63ad1d0c745660cbef7d"
    "b66e3aad3ebac050d40145c91a87d91d5260d06ce124835f74000000006955b90000000000695ef38001be659aa5"
    "1d4ee82e290b6ca1f6243561a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0110766563746f722d6c6963656e63652d31"
    "00000005000e646f63756d656e742e67636f6465")
VECTOR_SIGNATURE_HEX = (
    "e3a930e0cc9f7208275eea7924d2542bebb466b6a79bfce8998d444af71a5785dff7cbc2cb1767cf7aa499d164ac"
    "203a728ce30d87176699461afa0b10e59f0f")
# name: (algorithm, first secret byte, public key in base64, key ID)
VECTOR_KEYS = {
    "signer": (env.ED25519, 0x01, "ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=",
               "0145c91a87d91d5260d06ce124835f74"),
    "printer": (env.X25519, 0x41, "ZLEBsdC+WocEvQePmJUAH8A+jp+VIvGI3RKNmEbUhGY=",
                "be659aa51d4ee82e290b6ca1f6243561"),
    "stranger": (env.ED25519, 0x81, "AgvUJ0RrcjQk2A0srTUro982SdDvj6rgyn6yVEOUGyk=",
                 "05391446c0da2e9795e98343d1def9a3"),
    "other-printer": (env.X25519, 0xC1, "OlU9dHktcn76m5pM3j2hrZPxotDAnLY5saPA/aFMviQ=",
                      "3b3c9fe08457b709ee61a04357dfd617"),
}


@unittest.skipUnless(os.path.isdir(VECTORS_DIR),
                     f"the test vectors folder {VECTORS_DIR} does not exist yet")
class VectorTest(TempDirTestCase):
    """tests/vectors/: keys, the exact mode-0 envelope, mode-1 envelopes, refusals."""

    def vector(self, name: str) -> str:
        return os.path.join(VECTORS_DIR, name)

    def vector_bytes(self, name: str) -> bytes:
        with open(self.vector(name), "rb") as file:
            return file.read()

    def secret_key(self, name: str, passphrase: str | None = None) -> env.SecretKey:
        """Read a committed secret key file through a 0600 copy (git checks out 0644)."""
        return env.read_secret_key_file(self.write(name, self.vector_bytes(name), 0o600),
                                        passphrase)

    def policy(self, **changes) -> env.ReaderPolicy:
        fields = {"trusted_signers": env.trust_store([env.read_public_key_file(self.vector("signer.pub"))]),
                  "printer_key": self.secret_key("printer.key"), "now": VECTOR_NOW,
                  "max_lifetime": VECTOR_MAX_LIFETIME}
        fields.update(changes)
        return env.ReaderPolicy(**fields)

    def test_key_files_hold_the_documented_keys(self):
        for name, (algorithm, first, public_b64, key_id_hex) in VECTOR_KEYS.items():
            with self.subTest(name):
                public = env.read_public_key_file(self.vector(name + ".pub"))
                secret = bytes(range(first, first + 32))
                self.assertEqual((public.algorithm, env._b64(public.public_key), public.key_id.hex()),
                                 (algorithm, public_b64, key_id_hex))
                self.assertEqual(env.derive_public_key(algorithm, secret), public.public_key)
                if os.path.exists(self.vector(name + ".key")):
                    self.assertEqual(self.secret_key(name + ".key"),
                                     env.SecretKey(algorithm, secret, public.public_key))

    def test_protected_key_file(self):
        self.assertEqual(self.secret_key("signer-protected.key", VECTOR_PASSPHRASE),
                         self.secret_key("signer.key"))
        with self.assertRaises(env.WrongPassphrase):
            self.secret_key("signer-protected.key", "Correct horse battery staple")

    def test_committed_secret_key_files_are_refused_while_readable(self):
        mode = stat.S_IMODE(os.stat(self.vector("signer.key")).st_mode)
        if mode & 0o044:
            with self.assertRaisesRegex(env.KeyFileError, "chmod 600"):
                env.read_secret_key_file(self.vector("signer.key"))

    def test_document(self):
        self.assertEqual(hashlib.sha256(self.vector_bytes("document.gcode")).hexdigest(),
                         VECTOR_DOCUMENT_SHA256)

    def test_signed_envelope_is_reproduced_byte_for_byte(self):
        options = env.EnvelopeOptions(
            recipients=[env.read_public_key_file(self.vector("printer.pub"))],
            content_type="text/x-gcode", created=1767225600, not_after=1767830400,
            nonce=bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"),
            licence=env.Licence("vector-licence-1", 5), document_name="document.gcode")
        manifest = env.make_envelope(self.vector("document.gcode"), self.path("signed.ipp3d"),
                                     self.secret_key("signer.key"), options)
        made = self.read("signed.ipp3d")
        self.assertEqual(env.encode_manifest(manifest).hex(), VECTOR_MANIFEST_HEX)
        self.assertEqual(made[:12].hex(), "4950503344454e5601000000")
        self.assertEqual(made[14 + 158:14 + 158 + 64].hex(), VECTOR_SIGNATURE_HEX)
        self.assertEqual(hashlib.sha256(made).hexdigest(), VECTOR_SIGNED_SHA256)
        self.assertEqual(made, self.vector_bytes("signed.ipp3d"))

    def test_valid_envelopes_open_to_the_document(self):
        document_bytes = self.vector_bytes("document.gcode")
        cases = [("signed.ipp3d", env.MODE_SIGNED, None, document_bytes),
                 ("encrypted.ipp3d", env.MODE_ENCRYPTED, 1024, document_bytes),
                 ("encrypted-empty.ipp3d", env.MODE_ENCRYPTED, 1024, b"")]
        for name, mode, chunk_size, expected in cases:
            with self.subTest(name):
                verified = env.open_envelope(self.vector(name), self.policy(), self.path("plain"))
                self.assertEqual(self.read("plain"), expected)
                self.assertEqual((verified.mode, verified.chunk_size), (mode, chunk_size))
                self.assertEqual(os.path.getsize(self.vector(name)),
                                 env.envelope_size(mode, len(expected), chunk_size or env.WRITER_CHUNK_SIZE))
                self.assertEqual(verified.manifest.licence, env.Licence("vector-licence-1", 5))
                self.assertEqual(verified.manifest.recipients,
                                 (bytes.fromhex(VECTOR_KEYS["printer"][3]),))

    def test_refused_envelopes_are_refused_for_their_reason(self):
        names = sorted(name for name in os.listdir(VECTORS_DIR)
                       if name.startswith("refused-") and name.endswith(".ipp3d"))
        self.assertGreaterEqual(len(names), 12)
        for name in names:
            reason = name[len("refused-"):-len(".ipp3d")]
            with self.subTest(name):
                self.assertIn(reason, env.REFUSAL_REASONS)
                with self.assertRaises(env.EnvelopeRefused) as caught:
                    env.read_envelope(self.vector(name), self.policy())
                self.assertEqual(caught.exception.reason, reason, caught.exception.detail)

    def test_command_line_verifies_the_vectors(self):
        self.write("printer.key", self.vector_bytes("printer.key"), 0o600)
        base = [PYTHON, SCRIPT, "verify", "--trust", self.vector("signer.pub"), "--key",
                self.path("printer.key"), "--now", str(VECTOR_NOW)]
        valid = subprocess.run(base + [self.vector("encrypted.ipp3d")], capture_output=True,
                               text=True, timeout=60)
        self.assertEqual(valid.returncode, 0, valid.stderr)
        self.assertEqual(json.loads(valid.stdout)["payload_sha256"], VECTOR_DOCUMENT_SHA256)
        refused = subprocess.run(base + [self.vector("refused-tampered.ipp3d")],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual((refused.returncode, refused.stderr.split(":")[0]), (1, "tampered"))


# --------------------------------------------------------------------------
# (c) Cross-implementation tests against the C++ `ipp3d` command
# --------------------------------------------------------------------------

def client_help(*command: str) -> str:
    """The help text of `ipp3d [command] --help` ('' when it cannot run)."""
    try:
        result = subprocess.run([CLIENT_BINARY, *command, "--help"], capture_output=True,
                                text=True, timeout=60)
    except OSError:
        return ""
    return result.stdout + result.stderr


def client_commands() -> set[str]:
    """The subcommands `ipp3d --help` lists."""
    text = client_help()
    section = text.split("Subcommands:", 1)[1] if "Subcommands:" in text else ""
    return set(re.findall(r"^\s+([a-z][a-z-]*)\s", section, re.MULTILINE))


def missing_client_reason(commands: tuple[str, ...]) -> str | None:
    """Why the cross tests cannot run, or None when they can."""
    if not os.access(CLIENT_BINARY, os.X_OK):
        return f"the C++ client {CLIENT_BINARY} does not exist (set IPP3D_CLIENT_BINARY)"
    missing = sorted(set(commands) - client_commands())
    if missing:
        return f"the C++ client {CLIENT_BINARY} has no command {', '.join(missing)} yet"
    return None


class CrossImplementationTest(TempDirTestCase):
    """Envelopes and key files made by one implementation, read by the other."""

    SIZES = (0, 1, 65535, 65536, 65537, 3 * 65536 + 1000)

    def setUp(self) -> None:
        reason = missing_client_reason(("keygen", "sign", "verify"))
        if reason is not None:
            if ALLOW_SKIP:
                self.skipTest(reason + " (IPP3D_INTEROP_ALLOW_SKIP=1)")
            self.fail(reason + "; set IPP3D_INTEROP_ALLOW_SKIP=1 to skip instead")
        super().setUp()

    # Running the C++ command ------------------------------------------------

    def cpp(self, *args: str, passphrase: str | None = None) -> subprocess.CompletedProcess:
        environment = dict(os.environ)
        environment.pop("IPP3D_PASSPHRASE", None)
        if passphrase is not None:
            environment["IPP3D_PASSPHRASE"] = passphrase
        return subprocess.run([CLIENT_BINARY, *args], cwd=self.dir, env=environment,
                              capture_output=True, text=True, timeout=300)

    def cpp_ok(self, *args: str, passphrase: str | None = None) -> subprocess.CompletedProcess:
        result = self.cpp(*args, passphrase=passphrase)
        self.assertEqual(result.returncode, 0,
                         f"ipp3d {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result

    def cpp_verify(self, envelope: str, *options: str, passphrase: str | None = None,
                   trust: str = "author.pub") -> subprocess.CompletedProcess:
        """`ipp3d verify --trust TRUST ENVELOPE [options]`."""
        return self.cpp("verify", "--trust", trust, envelope, *options, passphrase=passphrase)

    def cpp_verify_ok(self, envelope: str, *options: str,
                      passphrase: str | None = None) -> subprocess.CompletedProcess:
        result = self.cpp_verify(envelope, *options, passphrase=passphrase)
        self.assertEqual(result.returncode, 0, f"ipp3d verify {envelope} {' '.join(options)}:\n"
                                               f"{result.stdout}\n{result.stderr}")
        return result

    def passphrase_flag(self, command: str) -> list[str]:
        """`--passphrase` when the C++ command has that option."""
        return ["--passphrase"] if "--passphrase" in client_help(command) else []

    def cpp_keygen(self, name: str, passphrase: str | None = None) -> env.SecretKey:
        flags = [] if passphrase is None else ["--passphrase"]
        self.cpp_ok("keygen", "--out", name, *flags, passphrase=passphrase)
        return env.read_secret_key_file(self.path(name), passphrase)

    def cpp_sign(self, key: str, source: str, output: str, *options: str,
                 passphrase: str | None = None) -> None:
        flags = [] if passphrase is None else self.passphrase_flag("sign")
        self.cpp_ok("sign", "--key", key, source, "-o", output, *options, *flags,
                    passphrase=passphrase)

    def python_printer(self, name: str = "printer") -> env.SecretKey:
        key = env.SecretKey.generate(env.X25519)
        env.write_key_pair(self.path(name), key)
        return key

    def policy(self, author: env.SecretKey, printer: env.SecretKey | None = None,
               **changes) -> env.ReaderPolicy:
        return env.ReaderPolicy(trusted_signers=env.trust_store([author.public()]),
                                printer_key=printer, **changes)

    # Key files -------------------------------------------------------------

    def test_cpp_key_files_are_read_by_python(self):
        key = self.cpp_keygen("author")
        self.assertEqual(key.algorithm, env.ED25519)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("author")).st_mode) & 0o077, 0)
        public = env.read_public_key_file(self.path("author.pub"))
        self.assertEqual((public.algorithm, public.public_key), (env.ED25519, key.public_key))

    def test_cpp_protected_key_file_is_read_by_python(self):
        key = self.cpp_keygen("author", passphrase="Tr1cky pässphrase")
        text = self.read("author").decode()
        self.assertIn("protection: argon2id\n", text)
        self.assertIn("kdf-opslimit: 3\nkdf-memlimit: 67108864\n", text)
        self.assertEqual(env.read_public_key_file(self.path("author.pub")).public_key,
                         key.public_key)
        with self.assertRaises(env.WrongPassphrase):
            env.read_secret_key_file(self.path("author"), "wrong")

    def test_python_protected_key_file_is_used_by_cpp(self):
        author = env.SecretKey.generate(env.ED25519)
        env.write_key_pair(self.path("author"), author, passphrase="Tr1cky pässphrase")
        self.write("doc.gcode", document(1000))
        self.cpp_sign("author", "doc.gcode", "doc.ipp3d", passphrase="Tr1cky pässphrase")
        verified = env.read_envelope(self.path("doc.ipp3d"), self.policy(author))
        self.assertEqual(verified.manifest.signer_key_id, author.key_id)

    def test_python_protected_printer_key_is_used_by_cpp(self):
        author = env.SecretKey.generate(env.ED25519)
        env.write_key_pair(self.path("author"), author)
        printer = env.SecretKey.generate(env.X25519)
        env.write_key_pair(self.path("printer"), printer, passphrase="pw")
        self.write("doc.gcode", document(1000))
        options = env.EnvelopeOptions(recipients=[printer.public()], encrypt=True)
        env.make_envelope(self.path("doc.gcode"), self.path("doc.ipp3d"), author, options)
        self.cpp_verify_ok("doc.ipp3d", "--key", "printer", *self.passphrase_flag("verify"),
                           passphrase="pw")

    # C++ writes, Python reads ----------------------------------------------

    def test_cpp_mode0_envelopes_are_verified_by_python(self):
        author = self.cpp_keygen("author")
        for size in self.SIZES:
            with self.subTest(size=size):
                self.write("doc.gcode", document(size))
                self.cpp_sign("author", "doc.gcode", f"{size}.ipp3d")
                path = self.path(f"{size}.ipp3d")
                self.assertEqual(os.path.getsize(path), env.envelope_size(env.MODE_SIGNED, size))
                verified = env.open_envelope(path, self.policy(author), self.path("plain"))
                self.assertEqual(self.read("plain"), document(size))
                self.assertEqual(verified.manifest.payload_length, size)

    def test_cpp_mode1_envelopes_are_opened_by_python(self):
        author = self.cpp_keygen("author")
        printer = self.python_printer()
        for size in self.SIZES:
            with self.subTest(size=size):
                self.write("doc.gcode", document(size))
                self.cpp_sign("author", "doc.gcode", f"{size}.ipp3d", "--for", "printer.pub",
                              "--encrypt")
                path = self.path(f"{size}.ipp3d")
                verified = env.open_envelope(path, self.policy(author, printer), self.path("plain"))
                self.assertEqual(self.read("plain"), document(size))
                self.assertEqual((verified.mode, verified.chunk_size),
                                 (env.MODE_ENCRYPTED, env.WRITER_CHUNK_SIZE))
                self.assertEqual(os.path.getsize(path),
                                 env.envelope_size(env.MODE_ENCRYPTED, size, verified.chunk_size))
                self.assertEqual(verified.manifest.recipients, (printer.key_id,))

    def test_cpp_mode1_with_protected_cpp_author_key(self):
        author = self.cpp_keygen("author", passphrase="pw")
        printer = self.python_printer()
        self.write("doc.gcode", document(5000))
        self.cpp_sign("author", "doc.gcode", "doc.ipp3d", "--for", "printer.pub", "--encrypt",
                      passphrase="pw")
        env.open_envelope(self.path("doc.ipp3d"), self.policy(author, printer), self.path("plain"))
        self.assertEqual(self.read("plain"), document(5000))

    def test_cpp_claims_are_read_by_python(self):
        author = self.cpp_keygen("author")
        printer = self.python_printer()
        self.write("doc.gcode", document(100))
        before = int(time.time())
        self.cpp_sign("author", "doc.gcode", "doc.ipp3d", "--for", "printer.pub",
                      "--copies", "3", "--licence", "Lic-7.a_b", "--expires", "7d",
                      "--name", "Würfel 20 mm")
        manifest = env.read_envelope(self.path("doc.ipp3d"), self.policy(author, printer)).manifest
        self.assertEqual(manifest.licence, env.Licence("Lic-7.a_b", 3))
        self.assertEqual(manifest.document_name, "Würfel 20 mm")
        self.assertEqual(manifest.not_after - manifest.created, 7 * 24 * 3600)
        self.assertLessEqual(abs(manifest.created - before), 60)
        self.assertEqual(manifest.content_type, env.GCODE_CONTENT_TYPE)
        self.assertEqual((manifest.encrypted, manifest.recipients), (False, (printer.key_id,)))

    # Python writes, C++ reads ----------------------------------------------

    def test_python_envelopes_are_verified_by_cpp(self):
        author = self.cpp_keygen("author")
        printer = self.python_printer()
        cases = [
            ("unaddressed", env.EnvelopeOptions(), []),
            ("addressed", env.EnvelopeOptions(recipients=[printer.public()]), []),
            ("licensed", env.EnvelopeOptions(licence=env.Licence("L-1", 5),
                                             document_name="Würfel.gcode"), []),
            ("encrypted", env.EnvelopeOptions(recipients=[printer.public()], encrypt=True),
             ["--key", "printer"]),
            ("encrypted, small chunks", env.EnvelopeOptions(
                recipients=[printer.public()], encrypt=True, chunk_size=SMALL_CHUNK),
             ["--key", "printer"]),
        ]
        for size in self.SIZES:
            self.write("doc.gcode", document(size))
            for name, options, flags in cases:
                with self.subTest(name, size=size):
                    env.make_envelope(self.path("doc.gcode"), self.path("doc.ipp3d"), author, options)
                    self.cpp_verify_ok("doc.ipp3d", *flags)

    def test_cpp_json_claims_match_python(self):
        author = self.cpp_keygen("author")
        printers = sorted([self.python_printer("p1"), self.python_printer("p2")],
                          key=lambda key: key.key_id)
        self.write("doc.gcode", document(4321))
        options = env.EnvelopeOptions(recipients=[key.public() for key in printers],
                                      licence=env.Licence("Lic_9", 12), document_name="Würfel 20",
                                      lifetime=86400)
        manifest = env.make_envelope(self.path("doc.gcode"), self.path("doc.ipp3d"), author, options)
        claims = json.loads(self.cpp_verify_ok("doc.ipp3d", "--json").stdout)["claims"]
        self.assertEqual(claims["sha256"], manifest.payload_digest.hex())
        self.assertEqual(claims["size"], manifest.payload_length)
        self.assertEqual(claims["signer"]["key_id"], author.key_id.hex())
        self.assertEqual((claims["created"], claims["not_after"]),
                         (manifest.created, manifest.not_after))
        self.assertEqual(claims["recipients"], [key.key_id.hex() for key in printers])
        self.assertEqual(claims["licence"], {"id": "Lic_9", "copies": 12})
        self.assertEqual(claims["document_name"], "Würfel 20")
        self.assertEqual((claims["content_type"], claims["encrypted"]), ("text/x-gcode", False))

    def test_cpp_printer_keys_are_used_by_python(self):
        author = self.cpp_keygen("author")
        for passphrase in (None, "printer pass"):
            with self.subTest(protected=passphrase is not None):
                for name in ("printer", "printer.pub", "doc.ipp3d", "back.ipp3d"):
                    if os.path.exists(self.path(name)):
                        os.unlink(self.path(name))
                flags = ["--algorithm", "x25519"] + ([] if passphrase is None else ["--passphrase"])
                self.cpp_ok("keygen", "--out", "printer", *flags, passphrase=passphrase)
                printer = env.read_secret_key_file(self.path("printer"), passphrase)
                self.assertEqual(printer.algorithm, env.X25519)
                self.assertEqual(env.read_public_key_file(self.path("printer.pub")).key_id,
                                 printer.key_id)
                self.write("doc.gcode", document(70000))
                self.cpp_sign("author", "doc.gcode", "doc.ipp3d", "--for", "printer.pub",
                              "--encrypt")
                env.open_envelope(self.path("doc.ipp3d"), self.policy(author, printer),
                                  self.path("plain"))
                self.assertEqual(self.read("plain"), document(70000))
                options = env.EnvelopeOptions(recipients=[printer.public()], encrypt=True)
                env.make_envelope(self.path("doc.gcode"), self.path("back.ipp3d"), author, options)
                self.cpp_verify_ok("back.ipp3d", "--key", "printer", passphrase=passphrase)

    def test_cpp_opens_python_envelopes_to_the_same_bytes(self):
        author = self.cpp_keygen("author")
        self.python_printer()
        printer = env.read_secret_key_file(self.path("printer"))
        self.write("doc.gcode", document(200003))
        options = env.EnvelopeOptions(recipients=[printer.public()], encrypt=True)
        env.make_envelope(self.path("doc.gcode"), self.path("doc.ipp3d"), author, options)
        self.cpp_verify_ok("doc.ipp3d", "--key", "printer", "-o", "plain")
        self.assertEqual(self.read("plain"), document(200003))

    def test_key_file_strictness_agrees(self):
        author = env.SecretKey.generate(env.ED25519)
        env.write_key_pair(self.path("author"), author)
        self.write("doc.gcode", document(10))
        env.make_envelope(self.path("doc.gcode"), self.path("doc.ipp3d"), author)
        for name, text, expected in public_key_file_variants(author):
            with self.subTest("public: " + name):
                self.write("variant.pub", text)
                cpp_accepts = self.cpp_verify("doc.ipp3d", trust="variant.pub").returncode == 0
                self.assertEqual((python_accepts(env.parse_public_key_file, text), cpp_accepts),
                                 (expected, expected))
        for name, text, passphrase, expected in secret_key_file_variants(author):
            with self.subTest("secret: " + name):
                self.write("variant.key", text, 0o600)
                cpp_accepts = self.cpp("sign", "--key", "variant.key", "doc.gcode", "-o", "out",
                                       passphrase=passphrase).returncode == 0
                self.assertEqual((python_accepts(env.parse_secret_key_file, text, passphrase),
                                  cpp_accepts), (expected, expected))

    def test_secret_key_file_modes_agree(self):
        author = env.SecretKey.generate(env.ED25519)
        env.write_key_pair(self.path("author"), author)
        self.write("doc.gcode", document(10))
        for mode, expected in ((0o600, True), (0o400, True), (0o620, True), (0o602, True),
                               (0o700, True), (0o622, True), (0o611, True), (0o640, False),
                               (0o604, False), (0o644, False), (0o660, False), (0o606, False),
                               (0o444, False)):
            with self.subTest(mode=oct(mode)):
                os.chmod(self.path("author"), mode)
                cpp_accepts = self.cpp("sign", "--key", "author", "doc.gcode", "-o",
                                       "out").returncode == 0
                self.assertEqual((python_accepts(env.read_secret_key_file, self.path("author")),
                                  cpp_accepts), (expected, expected))

    def test_small_order_public_key_is_refused_by_both(self):
        # §3: libsodium's rules. A trusted key that is the neutral element
        # "verifies" R = neutral, S = 0 under OpenSSL; both readers refuse it.
        neutral = env.PublicKey(env.ED25519, ED25519_IDENTITY)
        self.write("neutral.pub", env.format_public_key_file(neutral))
        payload = document(100)
        manifest_bytes = env.encode_manifest(make_manifest(payload, signer_key_id=neutral.key_id))
        self.write("weak.ipp3d", craft_mode0(env.encode_header_block(
            manifest_bytes, ED25519_IDENTITY + bytes(32)), payload))
        with self.assertRaises(env.EnvelopeRefused) as caught:
            env.read_envelope(self.path("weak.ipp3d"),
                              env.ReaderPolicy(trusted_signers=env.trust_store([neutral])))
        self.assertEqual(caught.exception.reason, env.BAD_SIGNATURE)
        result = self.cpp_verify("weak.ipp3d", "--json", trust="neutral.pub")
        self.assertEqual(cpp_verdict(result), env.BAD_SIGNATURE, result.stdout + result.stderr)

    def test_cpp_and_python_agree_on_crafted_envelopes(self):
        author = self.cpp_keygen("author")
        printer = self.python_printer()
        policy = self.policy(author, printer)
        for expected, name, data in crafted_envelopes(author, printer):
            with self.subTest(name, expected=expected):
                self.write("crafted.ipp3d", data)
                try:
                    env.read_envelope(self.path("crafted.ipp3d"), policy)
                    python_verdict = "valid"
                except env.EnvelopeRefused as refusal:
                    python_verdict = refusal.reason
                result = self.cpp_verify("crafted.ipp3d", "--key", "printer", "--json")
                self.assertEqual(python_verdict, expected)
                self.assertEqual(cpp_verdict(result), expected, result.stdout + result.stderr)
                self.assertEqual(result.returncode, 0 if expected == "valid" else 1)


def python_accepts(reader: Callable, *args) -> bool:
    """True when a key file reader accepts its input, False on KeyFileError."""
    try:
        reader(*args)
    except env.KeyFileError:
        return False
    return True


def public_key_file_variants(key: env.SecretKey):
    """(name, text, whether readers accept it) for a public key file of `key`."""
    good = env.format_public_key_file(key.public())
    key_id_hex = key.key_id.hex().encode()
    encoded = env._b64(key.public_key).encode()
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twisted = encoded[:-2] + alphabet[alphabet.index(encoded[-2]) ^ 1:][:1] + b"="
    yield "as written", good, True
    yield "with a comment", good + "comment: Ada’s printer key\n".encode(), True
    yield "with an empty comment", good + b"comment: \n", True
    yield "comment with a tab", good + b"comment: a\tb\n", False
    yield "comment without its space", good + b"comment:\n", False
    yield "two comments", good + b"comment: a\ncomment: b\n", False
    yield "upper-case key ID", good.replace(key_id_hex, key_id_hex.upper()), False
    yield "non-canonical base64", good.replace(encoded, twisted), False
    yield "base64 without padding", good.replace(encoded, encoded.rstrip(b"=")), False
    yield "trailing space", good.replace(encoded, encoded + b" "), False
    yield "two spaces after the colon", good.replace(b"algorithm: ", b"algorithm:  "), False
    yield "no final LF", good[:-1], False
    yield "CRLF line ends", good.replace(b"\n", b"\r\n"), False
    yield "blank line at the end", good + b"\n", False
    yield "lines swapped", good.replace(b"algorithm: ed25519\nkey-id: " + key_id_hex,
                                        b"key-id: " + key_id_hex + b"\nalgorithm: ed25519"), False
    yield "another key's ID", good.replace(key_id_hex, b"0" * 32), False
    # Decided by docs/envelope.md §2 since a0be5b8.
    for name, raw, accepted in KEY_COMMENTS:
        yield f"comment: {name}", good + b"comment: " + raw + b"\n", accepted
    yield "byte order mark", b"\xef\xbb\xbf" + good, False
    yield "invalid UTF-8 on line 2", good.replace(b"algorithm", b"algo\xffrithm"), False
    yield "space before the colon", good.replace(b"algorithm: ", b"algorithm : "), False
    yield "tab after the colon", good.replace(b"algorithm: ", b"algorithm:\t"), False
    yield "upper-case name", good.replace(b"algorithm: ", b"Algorithm: "), False
    yield "upper-case algorithm", good.replace(b"algorithm: ed25519", b"algorithm: Ed25519"), False
    yield "base64 with extra padding", good.replace(encoded, encoded + b"="), False
    yield "base64 with a space inside", good.replace(encoded, encoded[:4] + b" " + encoded[4:]), False
    yield "URL-safe base64", good.replace(encoded, encoded.replace(b"+", b"-").replace(b"/", b"_")
                                          .replace(b"=", b"") + b"-"), False


def secret_key_file_variants(key: env.SecretKey):
    """(name, text, passphrase, whether readers accept it) for secret key files of `key`."""
    plain = env.format_secret_key_file(key)
    protected = env.format_secret_key_file(key, "pw", opslimit=1, memlimit=8192)
    yield "as written", plain, None, True
    yield "protected, small parameters", protected, "pw", True
    yield "protected, wrong passphrase", protected, "pW", False
    yield "with a comment", plain + b"comment: x\n", None, False
    yield "opslimit 01", protected.replace(b"kdf-opslimit: 1", b"kdf-opslimit: 01"), "pw", False
    yield "opslimit 11", protected.replace(b"kdf-opslimit: 1", b"kdf-opslimit: 11"), "pw", False
    yield "memlimit 8191", protected.replace(b"kdf-memlimit: 8192", b"kdf-memlimit: 8191"), "pw", False
    yield "memlimit 256 MiB + 1", protected.replace(b"kdf-memlimit: 8192",
                                                    b"kdf-memlimit: 268435457"), "pw", False
    yield "unknown protection", plain.replace(b"protection: none", b"protection: aes"), None, False
    # Decided by docs/envelope.md §2 since a0be5b8.
    yield "opslimit 10, memlimit 8 KiB", env.format_secret_key_file(
        key, "pw", opslimit=10, memlimit=8192), "pw", True
    for value in (b"+1", b" 1", b"1 ", b"0x1", b"1.0", b"\xd9\xa1"):  # last: ARABIC-INDIC DIGIT ONE
        yield f"opslimit {value!r}", protected.replace(b"kdf-opslimit: 1\n",
                                                       b"kdf-opslimit: " + value + b"\n"), "pw", False
    for value in (b"08192", b"0x2000", b"8192.0", b"8_192"):
        yield f"memlimit {value!r}", protected.replace(b"kdf-memlimit: 8192\n",
                                                       b"kdf-memlimit: " + value + b"\n"), "pw", False
    salt = re.search(rb"^kdf-salt: (.*)$", protected, re.MULTILINE).group(1)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twisted_salt = salt[:-3] + alphabet[alphabet.index(salt[-3]) | 1:][:1] + b"=="
    yield "kdf-salt with unused bits set", protected.replace(salt, twisted_salt), "pw", False
    yield "upper-case key ID", plain.replace(key.key_id.hex().encode(),
                                             key.key_id.hex().upper().encode()), None, False
    yield "protected, empty passphrase", protected, "", False
    yield "unprotected, empty passphrase", plain, "", True


def cpp_verdict(result: subprocess.CompletedProcess) -> str:
    """The refusal keyword of `ipp3d verify --json`, or "valid"."""
    try:
        return json.loads(result.stdout).get("problem") or "valid"
    except ValueError:
        match = re.search(r"refused: ([a-z-]+)", result.stdout + result.stderr)
        return match.group(1) if match else f"exit {result.returncode}: {result.stderr.strip()}"


def crafted_envelopes(author: env.SecretKey, printer: env.SecretKey):
    """(expected verdict, name, envelope bytes) for a reader with `printer`'s key trusting `author`.

    Covers every refusal reason a stateless reader without a lifetime limit
    gives, and the cases docs/envelope.md decides since a0be5b8 (see README).
    """
    payload = document(3 * 1024 + 5)
    parts = Mode1Parts(recipient=printer)

    def manifest(**changes):
        return make_manifest(payload, **{"signer_key_id": author.key_id, **changes})

    def mode0(**changes):
        return craft_mode0(signed_block(manifest(**changes), author), payload)

    def mode1(mode1_parts=parts, **changes):
        encrypted = manifest(encrypted=True, recipients=(mode1_parts.recipient.key_id,), **changes)
        return craft_mode1(signed_block(encrypted, author), payload, mode1_parts)

    good0, good1 = mode0(), mode1()
    stranger = env.SecretKey.generate(env.ED25519)
    yield "valid", "mode 0", good0
    yield "valid", "mode 1", good1
    yield "valid", "mode 0 addressed", mode0(recipients=(printer.key_id,))
    yield "valid", "name with a C1 control character", mode0(document_name="a\u0085b")
    yield "malformed", "empty file", b""
    yield "malformed", "bad magic", b"IPP3DENX" + good0[8:]
    yield "malformed", "version 2", good0[:8] + b"\x02" + good0[9:]
    yield "malformed", "reserved bytes", good0[:11] + b"\x01" + good0[12:]
    yield "malformed", "non-zero padding", craft_mode0(
        header_block(env.encode_manifest(manifest()), author, 1), payload)
    yield "malformed", "manifest length 0", craft_mode0(b"\x00\x00" + bytes(4094), payload)
    yield "malformed", "upper-case content type", mode0(content_type="Text/X-Gcode")
    yield "malformed", "unsorted recipients", mode0(recipients=(b"\x02" * 16, b"\x01" * 16))
    yield "malformed", "name with DEL", mode0(document_name="a\x7fb")
    yield "malformed", "payload length above 2^40", mode0(payload_length=2 ** 40 + 1)
    yield "malformed", "mode 0, flags encrypted", craft_mode0(
        signed_block(manifest(encrypted=True, recipients=(printer.key_id,)), author), payload)
    yield "malformed", "mode 1, flags 0", craft_mode1(
        signed_block(manifest(recipients=(printer.key_id,)), author), payload, parts)
    yield "malformed", "signed recipient differs from the clear one", craft_mode1(
        signed_block(manifest(encrypted=True, recipients=(Keys.other_printer.key_id,)), author),
        payload, parts)
    yield "malformed", "clear length differs", mode1(
        dataclasses.replace(parts, clear_length=len(payload) + 1))
    yield "malformed", "chunk size 1023", mode1(dataclasses.replace(parts, chunk_size=1023))
    yield "malformed", "chunk size 2^20+1", mode1(dataclasses.replace(parts, chunk_size=1048577))
    yield "malformed", "message 1 tagged PUSH", mode1(dataclasses.replace(parts, header_tag=1))
    yield "malformed", "chunk tagged PUSH", mode1(dataclasses.replace(parts, chunk_tags={0: 1}))
    yield "malformed", "chunk tagged REKEY", mode1(dataclasses.replace(parts, chunk_tags={1: 2}))
    yield "wrong-recipient", "mode 0 addressed elsewhere", mode0(recipients=(Keys.other_printer.key_id,))
    yield "wrong-recipient", "mode 1 to another printer", mode1(
        dataclasses.replace(parts, recipient=Keys.other_printer))
    yield "cannot-decrypt", "sealed key altered", flip(good1, 12 + 28 + 40)
    yield "cannot-decrypt", "message 1 altered", flip(good1, 144 + 100)
    yield "unknown-signer", "untrusted signer", craft_mode0(
        signed_block(manifest(signer_key_id=stranger.key_id), stranger), payload)
    yield "bad-signature", "signed by another key", craft_mode0(
        signed_block(manifest(), stranger), payload)
    yield "not-yet-valid", "created in an hour", mode0(created=NOW + 3600, not_after=NOW + 7200)
    yield "expired", "expired an hour ago", mode0(created=NOW - 7200, not_after=NOW - 3600)
    yield "truncated", "cut inside the preamble", good0[:7]
    yield "truncated", "cut inside the header block", good0[:3000]
    yield "truncated", "cut inside the encryption header", good1[:100]
    yield "truncated", "cut inside message 1", good1[:4000]
    yield "truncated", "mode 0 without its last byte", good0[:-1]
    yield "truncated", "mode 1 without the final message", good1[:-17]
    yield "truncated", "message 1 tagged FINAL", mode1(dataclasses.replace(parts, header_tag=3))
    yield "truncated", "chunk 2 tagged FINAL", mode1(dataclasses.replace(parts, chunk_tags={1: 3}))
    yield "truncated", "last chunk tagged FINAL, no final message", mode1(
        dataclasses.replace(parts, chunk_tags={3: 3}, final_message=False))
    yield "tampered", "chunk altered", flip(good1, 4257 + 10)
    yield "tampered", "final message altered", flip(good1, len(good1) - 1)
    yield "trailing-data", "mode 0 plus a byte", good0 + b"\n"
    yield "trailing-data", "mode 1 plus a byte", good1 + b"\n"
    yield "trailing-data", "mode 0 altered plus a byte", flip(good0, 5000) + b"\n"
    yield "digest-mismatch", "mode 0 payload altered", flip(good0, 4108 + 10)
    yield "digest-mismatch", "mode 1 signed digest of another document", mode1(
        payload_digest=bytes(32))
    # Decided by docs/envelope.md since a0be5b8 --------------------------------
    for content_type in CONTENT_TYPES_ACCEPTED:
        yield "valid", f"content type {content_type!r}", mode0(content_type=content_type)
    for content_type in CONTENT_TYPES_REFUSED:
        if content_type.isascii() and 1 <= len(content_type) <= 127:
            yield "malformed", f"content type {content_type!r}", mode0(content_type=content_type)
    for name, raw, allowed in DOCUMENT_NAMES:
        block = header_block(manifest_with_raw_name(manifest(), raw), author)
        yield "valid" if allowed else "malformed", f"name: {name}", craft_mode0(block, payload)
    manifest_bytes = env.encode_manifest(manifest())
    yield "bad-signature", "signature with a small-order R", craft_mode0(env.encode_header_block(
        manifest_bytes, small_order_r_signature(author, manifest_bytes)), payload)
    yield "bad-signature", "signature with a non-canonical S", craft_mode0(env.encode_header_block(
        manifest_bytes, non_canonical_s_signature(author, manifest_bytes)), payload)
    elsewhere = mode1(dataclasses.replace(parts, recipient=Keys.other_printer))
    yield "malformed", "1 wrong byte", b"X"
    yield "truncated", "1 byte of the magic", good0[:1]
    yield "truncated", "the magic only", good0[:8]
    yield "truncated", "9 bytes, version 2", good0[:8] + b"\x02"
    yield "truncated", "11 bytes, mode 7", good0[:9] + b"\x07\x00"
    yield "truncated", "preamble only", good0[:12]
    yield "truncated", "to another printer, cut inside the encryption header", elsewhere[:32]
    yield "truncated", "malformed manifest, cut inside the header block", mode0(
        content_type="Text/X")[:200]
    yield "truncated", "message 1 altered, cut inside message 1", flip(good1, 144 + 100)[:1000]
    yield "wrong-recipient", "to another printer, cut inside message 1", elsewhere[:1000]
    yield "wrong-recipient", "to another printer, cut after the encryption header", elsewhere[:144]
    yield "cannot-decrypt", "sealed key altered, cut inside message 1", flip(good1, 12 + 28 + 40)[:1000]
    yield "truncated", "mode 0 altered minus a byte", flip(good0, 5000)[:-1]
    yield "tampered", "mode 1 chunk altered plus a byte", flip(good1, 4257 + 10) + b"\n"
    yield "trailing-data", "mode 1 plus a byte, signed digest wrong", mode1(
        payload_digest=bytes(32)) + b"\n"
    yield "truncated", "mode 1 without the final message, signed digest wrong", mode1(
        dataclasses.replace(parts, final_message=False), payload_digest=bytes(32))
    yield "malformed", "message 1 tagged REKEY", mode1(dataclasses.replace(parts, header_tag=2))
    yield "malformed", "last chunk tagged REKEY", mode1(dataclasses.replace(parts, chunk_tags={3: 2}))
    yield "truncated", "message 1 tagged FINAL, expired", mode1(
        dataclasses.replace(parts, header_tag=3), created=NOW - 7200, not_after=NOW - 3600)
    yield "truncated", "message 1 tagged FINAL, chunk size 1023", mode1(
        dataclasses.replace(parts, header_tag=3, chunk_size=1023))
    yield "expired", "chunk 1 tagged FINAL, expired", mode1(
        dataclasses.replace(parts, chunk_tags={0: 3}), created=NOW - 7200, not_after=NOW - 3600)
    yield "unknown-signer", "chunk 1 tagged PUSH, unknown signer", craft_mode1(signed_block(
        manifest(encrypted=True, recipients=(printer.key_id,), signer_key_id=stranger.key_id),
        stranger), payload, dataclasses.replace(parts, chunk_tags={0: 1}))
    yield "malformed", "message 1 tagged PUSH, unknown signer", craft_mode1(signed_block(
        manifest(encrypted=True, recipients=(printer.key_id,), signer_key_id=stranger.key_id),
        stranger), payload, dataclasses.replace(parts, header_tag=1))
    yield "malformed", "chunk size 1023, unknown signer", craft_mode1(signed_block(
        manifest(encrypted=True, recipients=(printer.key_id,), signer_key_id=stranger.key_id),
        stranger), payload, dataclasses.replace(parts, chunk_size=1023))
