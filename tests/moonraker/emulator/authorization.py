"""Moonraker's [authorization]: API key, users with EdDSA JSON web tokens, oneshot tokens, trusted clients.

`authenticate` follows Moonraker's order: JWT (Authorization: Bearer,
X-Access-Token, ?access_token=), oneshot ?token=, X-Api-Key (when
enable_api_key), then force_logins (401 once a user exists), then
trusted_clients (IPs, CIDR ranges, domains). Domain entries are matched
without DNS: loopback addresses resolve to "localhost" only.
"""

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import time
import uuid

from . import eddsa
from .api import ApiError

API_USER = "_API_KEY_USER_"
TRUSTED_USER = "_TRUSTED_USER_"
RESERVED_USERS = (API_USER, TRUSTED_USER)
ACCESS_TOKEN_SECONDS = 3600
ONESHOT_SECONDS = 5.0


class Authorization:
    """Users, keys and tokens of one emulated Moonraker."""

    def __init__(self, conf, users, issuer, api_key):
        self.force_logins = bool(conf.get("force_logins", False))
        self.enable_api_key = bool(conf.get("enable_api_key", True))
        self.login_timeout = int(conf.get("login_timeout", 90))
        self.default_source = str(conf.get("default_source", "moonraker"))
        maximum = conf.get("max_login_attempts")
        self.max_login_attempts = int(maximum) if maximum else None
        self.failed_logins = {}
        self.issuer = issuer
        self.api_key = api_key
        self.users = {API_USER: {"username": API_USER, "source": "moonraker", "created_on": time.time()}}
        self.oneshot_tokens = {}
        self.trusted_ips, self.trusted_ranges, self.trusted_domains = [], [], []
        for entry in conf.get("trusted_clients", []):
            self._add_trusted(str(entry).strip())
        for user in users:
            self.create_user(user["username"], user["password"])

    def _add_trusted(self, entry):
        try:
            self.trusted_ips.append(ipaddress.ip_address(entry))
            return
        except ValueError:
            pass
        try:
            self.trusted_ranges.append(ipaddress.ip_network(entry))
            return
        except ValueError:
            pass
        self.trusted_domains.append(entry.lower())

    @staticmethod
    def _hash(password, salt):
        return hashlib.sha256(salt + password.encode()).hexdigest()

    def create_user(self, username, password):
        """Add a Moonraker-sourced user; raise ApiError when the name is taken or reserved."""
        if username in RESERVED_USERS:
            raise ApiError.server(f"Invalid Request for user {username}")
        if username in self.users:
            raise ApiError.server(f"User {username} already exists")
        salt = secrets.token_bytes(16)
        self.users[username] = {"username": username, "source": "moonraker", "created_on": time.time(),
                                "salt": salt, "password": self._hash(password, salt),
                                "jwt_secret": None, "jwk_id": None}
        return self.users[username]

    def real_user_count(self):
        """Return the number of users besides the API-key user."""
        return len([name for name in self.users if name not in RESERVED_USERS])

    def is_trusted_ip(self, ip_text):
        """Return True when `ip_text` matches trusted_clients."""
        ip = ipaddress.ip_address(ip_text)
        if ip in self.trusted_ips or any(ip in network for network in self.trusted_ranges):
            return True
        return ip.is_loopback and "localhost" in self.trusted_domains

    def _public_key(self, kid):
        for user in self.users.values():
            if kid is not None and user.get("jwk_id") == kid and user.get("jwt_secret"):
                return eddsa.public_key(user["jwt_secret"])
        return None

    def decode_token(self, token, token_type="access"):
        """Return the user a JWT belongs to; raise ApiError(401) for any invalid token."""
        try:
            _, payload = eddsa.decode_jwt(token, self._public_key)
        except ValueError as error:
            raise ApiError.server(str(error), 401) from error
        if payload.get("token_type") != token_type:
            raise ApiError.server(f"JWT Token type mismatch: Expected {token_type}, "
                                  f"Recd: {payload.get('token_type')}", 401)
        if payload.get("iss") != self.issuer:
            raise ApiError.server("Invalid JWT Issuer", 401)
        if payload.get("aud") != "Moonraker":
            raise ApiError.server("Invalid JWT Audience", 401)
        if payload.get("exp", 0) < int(time.time()):
            raise ApiError.server("JWT Expired", 401)
        user = self.users.get(payload.get("username", ""))
        if user is None:
            raise ApiError.server("Unknown user", 401)
        return user

    def _jwt_from(self, headers, query):
        token = headers.get("Authorization")
        if token is None:
            token = headers.get("X-Access-Token")
            if token is None:
                token = query.get("access_token")
        elif token.startswith("Bearer "):
            token = token[7:]
        else:
            return None
        return token or None

    def authenticate(self, headers, query, ip, auth_required):
        """Return the authenticated user (a dict) or None; raise ApiError(401) when access is denied."""
        token = self._jwt_from(headers, query)
        if token is not None:
            try:
                return self.decode_token(token)
            except ApiError as error:
                raise ApiError.http(401, "JWT Decode Error") from error
        oneshot = query.get("token")
        if oneshot is not None:
            user = self._use_oneshot(oneshot, ip)
            if user is not None:
                return user
        if self.enable_api_key:
            key = headers.get("X-Api-Key")
            if key and hmac.compare_digest(key, self.api_key):
                return self.users[API_USER]
        if self.force_logins and self.real_user_count() > 0:
            if not auth_required:
                return None
            raise ApiError.http(401, "Unauthorized, Force Logins Enabled")
        if self.is_trusted_ip(ip):
            return {"username": TRUSTED_USER, "source": "moonraker", "created_on": time.time()}
        if not auth_required:
            return None
        raise ApiError.http(401, "Unauthorized")

    def issue_oneshot(self, ip, user):
        """Return a oneshot token valid once, for 5 seconds, from `ip` only."""
        token = base64.b32encode(os.urandom(20)).decode()
        self.oneshot_tokens[token] = (ip, user, time.monotonic() + ONESHOT_SECONDS)
        return token

    def _use_oneshot(self, token, ip):
        entry = self.oneshot_tokens.pop(token, None)
        if entry is None:
            return None
        token_ip, user, expires = entry
        if time.monotonic() > expires or token_ip != ip:
            return None
        return user

    def _issue_jwt(self, user, token_type, seconds):
        if user.get("jwt_secret") is None:
            user["jwt_secret"] = os.urandom(32)
            user["jwk_id"] = eddsa.base64url_encode(os.urandom(32))
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": "Moonraker", "iat": now, "exp": now + seconds,
                   "username": user["username"], "token_type": token_type}
        header = {"kid": user["jwk_id"], "alg": "EdDSA", "typ": "JWT"}
        return eddsa.encode_jwt(header, payload, user["jwt_secret"])

    def login(self, username, password, ip, create):
        """Log a user in (creating it when `create`); return Moonraker's token answer."""
        if self.max_login_attempts is not None and self.failed_logins.get(ip, 0) >= self.max_login_attempts:
            raise ApiError.http(401, "Unauthorized, Maximum Login Attempts Reached")
        try:
            if create:
                user = self.create_user(username, password)
            else:
                if username in RESERVED_USERS:
                    raise ApiError.server(f"Invalid Request for user {username}")
                user = self.users.get(username)
                if user is None:
                    raise ApiError.server(f"Unregistered User: {username}")
                if not hmac.compare_digest(self._hash(password, user["salt"]), user["password"]):
                    raise ApiError.server("Invalid Password")
        except ApiError:
            self.failed_logins[ip] = self.failed_logins.get(ip, 0) + 1
            raise
        self.failed_logins.pop(ip, None)
        return {
            "username": username,
            "token": self._issue_jwt(user, "access", ACCESS_TOKEN_SECONDS),
            "source": user["source"],
            "refresh_token": self._issue_jwt(user, "refresh", self.login_timeout * 86400),
            "action": "user_created" if create else "user_logged_in",
        }

    def refresh(self, refresh_token):
        """Return a new access token for a valid refresh token."""
        try:
            user = self.decode_token(refresh_token, token_type="refresh")
        except ApiError as error:
            raise ApiError.server("Invalid Refresh Token", 401) from error
        return {"username": user["username"], "token": self._issue_jwt(user, "access", ACCESS_TOKEN_SECONDS),
                "source": user["source"], "action": "user_jwt_refresh"}

    def logout(self, user):
        """Forget the user's signing key, which invalidates its tokens."""
        if user is None:
            raise ApiError.server("No user logged in")
        name = user["username"]
        if name in RESERVED_USERS:
            raise ApiError.server(f"Invalid log out request for user {name}")
        self.users[name]["jwt_secret"] = None
        self.users[name]["jwk_id"] = None
        return {"username": name, "action": "user_logged_out"}

    def delete_user(self, username, current):
        """Delete a user other than the caller."""
        if current is not None and current["username"] == username:
            raise ApiError.server(f"Cannot delete logged in user {username}")
        if username in RESERVED_USERS:
            raise ApiError.server(f"Invalid Request for reserved user {username}")
        if username not in self.users:
            raise ApiError.server(f"No registered user: {username}")
        del self.users[username]
        return {"username": username, "action": "user_deleted"}

    def rotate_api_key(self):
        """Replace the API key with a new 32-hex value and return it."""
        self.api_key = uuid.uuid4().hex
        return self.api_key
