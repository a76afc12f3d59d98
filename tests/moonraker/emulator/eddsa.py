"""Ed25519 signatures (RFC 8032) and EdDSA JSON web tokens, standard library only.

Moonraker signs its access and refresh tokens with Ed25519 ("alg": "EdDSA").
This module implements the curve arithmetic from the RFC in extended twisted
Edwards coordinates; it is fast enough for a test server (a few milliseconds
per signature) and is not constant-time, so it must never guard real secrets.
"""

import base64
import hashlib
import json

_FIELD = 2**255 - 19
_ORDER = 2**252 + 27742317777372353535851937790883648493
_CURVE_D = -121665 * pow(121666, _FIELD - 2, _FIELD) % _FIELD
_SQRT_MINUS_ONE = pow(2, (_FIELD - 1) // 4, _FIELD)
_IDENTITY = (0, 1, 1, 0)


def _inverse(value):
    return pow(value, _FIELD - 2, _FIELD)


def _recover_x(y, sign):
    x_squared = (y * y - 1) * _inverse(_CURVE_D * y * y + 1) % _FIELD
    x = pow(x_squared, (_FIELD + 3) // 8, _FIELD)
    if (x * x - x_squared) % _FIELD != 0:
        x = x * _SQRT_MINUS_ONE % _FIELD
    if (x * x - x_squared) % _FIELD != 0:
        raise ValueError("not a curve point")
    if x == 0 and sign:
        raise ValueError("not a curve point")
    if x & 1 != sign:
        x = _FIELD - x
    return x


def _point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _FIELD
    b = (p[1] + p[0]) * (q[1] + q[0]) % _FIELD
    c = 2 * p[3] * q[3] * _CURVE_D % _FIELD
    d = 2 * p[2] * q[2] % _FIELD
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _FIELD, g * h % _FIELD, f * g % _FIELD, e * h % _FIELD)


def _scalar_multiply(scalar, point):
    result = _IDENTITY
    while scalar > 0:
        if scalar & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        scalar >>= 1
    return result


def _encode_point(point):
    z_inverse = _inverse(point[2])
    x = point[0] * z_inverse % _FIELD
    y = point[1] * z_inverse % _FIELD
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode_point(data):
    value = int.from_bytes(data, "little")
    y = value & ((1 << 255) - 1)
    if y >= _FIELD:
        raise ValueError("not a curve point")
    x = _recover_x(y, value >> 255)
    return (x, y, 1, x * y % _FIELD)


def _points_equal(p, q):
    return ((p[0] * q[2] - q[0] * p[2]) % _FIELD == 0
            and (p[1] * q[2] - q[1] * p[2]) % _FIELD == 0)


_BASE_Y = 4 * _inverse(5) % _FIELD
_BASE_X = _recover_x(_BASE_Y, 0)
_BASE = (_BASE_X, _BASE_Y, 1, _BASE_X * _BASE_Y % _FIELD)


def _expand_secret(secret):
    digest = hashlib.sha512(secret).digest()
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    return scalar, digest[32:]


def _hash_to_scalar(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % _ORDER


def public_key(secret):
    """Return the 32-byte Ed25519 public key of a 32-byte secret seed."""
    scalar, _ = _expand_secret(secret)
    return _encode_point(_scalar_multiply(scalar, _BASE))


def sign(secret, message):
    """Return the 64-byte Ed25519 signature of `message` under the secret seed."""
    scalar, prefix = _expand_secret(secret)
    encoded_public = _encode_point(_scalar_multiply(scalar, _BASE))
    nonce = _hash_to_scalar(prefix, message)
    encoded_r = _encode_point(_scalar_multiply(nonce, _BASE))
    challenge = _hash_to_scalar(encoded_r, encoded_public, message)
    s = (nonce + challenge * scalar) % _ORDER
    return encoded_r + s.to_bytes(32, "little")


def verify(public, message, signature):
    """Return True when `signature` is a valid Ed25519 signature of `message` by `public`."""
    if len(signature) != 64 or len(public) != 32:
        return False
    try:
        r_point = _decode_point(signature[:32])
        a_point = _decode_point(public)
    except ValueError:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _ORDER:
        return False
    challenge = _hash_to_scalar(signature[:32], public, message)
    left = _scalar_multiply(s, _BASE)
    right = _point_add(r_point, _scalar_multiply(challenge, a_point))
    return _points_equal(left, right)


def base64url_encode(data):
    """Encode bytes as unpadded base64url text, as JSON web tokens do."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def base64url_decode(text):
    """Decode unpadded base64url text to bytes."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(header, payload, secret):
    """Return a compact JSON web token whose header and payload are signed with Ed25519."""
    signing_input = ".".join([
        base64url_encode(json.dumps(header).encode()),
        base64url_encode(json.dumps(payload).encode()),
    ]).encode()
    return signing_input.decode() + "." + base64url_encode(sign(secret, signing_input))


def decode_jwt(token, public_key_for_kid):
    """Verify a compact EdDSA token and return (header, payload).

    `public_key_for_kid` maps the header's key id to a public key (or None).
    Raises ValueError for any malformed, unknown-key or badly signed token.
    """
    try:
        signing_input, encoded_signature = token.rsplit(".", 1)
        encoded_header, encoded_payload = signing_input.split(".")
        header = json.loads(base64url_decode(encoded_header))
        payload = json.loads(base64url_decode(encoded_payload))
        signature = base64url_decode(encoded_signature)
    except (ValueError, TypeError) as error:
        raise ValueError("malformed token") from error
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("malformed token")
    if header.get("typ") != "JWT" or header.get("alg") != "EdDSA":
        raise ValueError("Invalid JWT header")
    public = public_key_for_kid(header.get("kid"))
    if public is None:
        raise ValueError("Invalid key ID")
    if not verify(public, signing_input.encode(), signature):
        raise ValueError("Invalid signature")
    return header, payload
