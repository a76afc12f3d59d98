"""The emulated Moonraker: endpoints, JSON-RPC, Klippy events, fault injection and recorded state.

`MoonrakerServer` is transport-neutral: the HTTP front end turns requests
into `handle_http`, `upload`, `file_request` and `dispatch_jsonrpc` calls,
websocket messages into `dispatch_jsonrpc`, and `/_emulator/...` into
`control` and `emulator_state`.
"""

import hashlib
import json
import os
import threading
import time
import urllib.parse
import uuid

from .api import EXCLUDED_ARGS, ApiError, ApiRequest, Endpoint
from .authorization import API_USER, TRUSTED_USER, Authorization
from .files import FileManager
from .gcode import CommandError
from .jobs import JobTracker
from .klipper import KlippyHost
from .klippy_base import DEFAULT_MCU_REASON, DEFAULT_SHUTDOWN_MESSAGE, KlippyUnavailable
from .records import Records
from .scenario import config_text, format_option
from .websockets import WebsocketManager

API_VERSION = [1, 5, 0]
CLIENT_TYPES = ("web", "mobile", "desktop", "display", "bot", "agent", "other")
_COMPONENTS = ["secrets", "template", "klippy_connection", "jsonrpc", "internal_transport", "application",
               "websockets", "database", "file_manager", "authorization", "klippy_apis", "shell_command",
               "machine", "data_store", "proc_stats", "job_state", "job_queue", "http_client",
               "announcements", "webcam", "extensions"]
_WEBCAM_DEFAULTS = {"location": "printer", "service": "mjpegstreamer", "enabled": True, "icon": "mdiWebcam",
                    "target_fps": 15, "target_fps_idle": 5, "stream_url": "", "snapshot_url": "",
                    "flip_horizontal": False, "flip_vertical": False, "rotation": 0, "aspect_ratio": "4:3"}
TICK_SECONDS = 0.25


class ControlError(Exception):
    """A control action that cannot be applied; `status` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class Response:
    """An HTTP answer: status, reason phrase, body bytes and extra headers."""

    def __init__(self, status, body=b"", reason=None, headers=None,
                 content_type="application/json; charset=UTF-8"):
        self.status = status
        self.body = body
        self.reason = reason
        self.headers = list(headers or [])
        self.content_type = content_type

    @classmethod
    def json(cls, status, payload, headers=None):
        """A JSON answer."""
        return cls(status, json.dumps(payload).encode(), headers=headers)

    @classmethod
    def error(cls, error):
        """Moonraker's error answer for an ApiError (reason phrase checked like Tornado)."""
        return cls(error.status, json.dumps(error.body()).encode(), reason=error.reason())


class RpcTransport:
    """Who sent a JSON-RPC request: transport kind ("HTTP"/"WEBSOCKET"), user, address, connection."""

    def __init__(self, kind, user, ip, connection=None):
        self.kind = kind
        self.user = user
        self.ip = ip
        self.connection = connection


class DelayRule:
    """A fault: hang requests whose path starts with `path` (and match `method`) for `seconds`."""

    def __init__(self, path, method, seconds, count):
        self.path = path
        self.method = method.upper() if method else None
        self.seconds = float(seconds)
        self.remaining = int(count)

    def matches(self, method, path):
        """Return True when the rule applies to this request."""
        return path.startswith(self.path) and (self.method is None or self.method == method)


class MoonrakerServer:
    """Moonraker with its components, driving an emulated Klippy."""

    def __init__(self, scenario, data_dir, api_key, host, port):
        self.lock = threading.RLock()
        self.records = Records()
        self.scenario = scenario
        self.conf = scenario["moonraker_conf"]
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.ssl_port = None
        self.ws = WebsocketManager()
        self.klippy = KlippyHost(scenario, data_dir, self.lock, self.records, self._on_klippy_event)
        self.files = FileManager(data_dir, self.conf.get("file_manager", {}), self._loaded_print,
                                 self._notify_filelist, self._start_print_from_upload)
        self.jobs = JobTracker(self.klippy.print_stats_status, self.files, self._notify_history,
                               "history" in self.conf)
        issuer = f"http://{scenario['klippy']['hostname']}:{port}"
        self.auth = Authorization(self.conf.get("authorization", {}), scenario["users"], issuer, api_key)
        server_conf = self.conf.get("server", {})
        self.max_upload_size = int(float(server_conf.get("max_upload_size", 1024)) * 1024 * 1024)
        self.delays = []
        self.refuse_connections = None
        self.endpoints = {}
        self.rpc_methods = {}
        self._stopping = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="moonraker-ticker", daemon=True)
        self._register_endpoints()
        self._write_config_files()
        for request_path, text in scenario["files"].items():
            self.files.add_initial_file(request_path, text)

    # ------------------------------------------------------------------ life cycle

    def _write_config_files(self):
        config_dir = self.files.paths["config"]
        with open(os.path.join(config_dir, "printer.cfg"), "w", encoding="utf-8") as handle:
            handle.write(config_text(self.scenario["printer_cfg"]))
        with open(os.path.join(config_dir, "moonraker.conf"), "w", encoding="utf-8") as handle:
            handle.write(config_text(self.conf))

    def set_ports(self, port, ssl_port):
        """Record the bound ports (known only after binding port 0): config and JWT issuer use them."""
        self.port = port
        self.ssl_port = ssl_port
        self.auth.issuer = f"http://{self.scenario['klippy']['hostname']}:{port}"

    def start(self):
        """Connect Klippy as the scenario says and start the 250 ms status ticker."""
        settings = self.scenario["klippy"]
        if settings["connected"]:
            self.klippy.connect()
        elif settings["connect_after_seconds"] is not None:
            timer = threading.Timer(float(settings["connect_after_seconds"]), self.klippy.connect)
            timer.daemon = True
            timer.start()
        self._ticker.start()

    def stop(self):
        """Stop background work and close websocket connections."""
        self._stopping.set()
        self.klippy.stop()
        with self.lock:
            for connection in list(self.ws.connections.values()):
                connection.close()

    def _tick_loop(self):
        tick = 0
        while not self._stopping.wait(TICK_SECONDS):
            tick += 1
            with self.lock:
                klippy = self.klippy
                if klippy.connected and klippy.hung_until <= time.monotonic():
                    self.jobs.sample()
                    self.ws.push_status(klippy.query)
                if tick % 4 == 0:
                    self.ws.notify("proc_stat_update", [{
                        "moonraker_stats": {"time": time.time(), "cpu_usage": 0.0, "memory": 0,
                                            "mem_units": "kB"},
                        "cpu_temp": None, "network": {}, "system_cpu_usage": {"cpu": 0.0},
                        "websocket_connections": len(self.ws.connections)}])

    # ------------------------------------------------------------------ events

    def _on_klippy_event(self, event, payload):
        if event == "started" and payload == "ready":
            self.jobs.on_klippy_ready()
            self.ws.notify("klippy_ready")
        elif event == "shutdown":
            self.jobs.on_klippy_shutdown()
            self.ws.notify("klippy_shutdown")
        elif event == "disconnected":
            self.jobs.on_klippy_disconnect()
            self.ws.drop_subscriptions()
            self.ws.notify("klippy_disconnected")
        elif event == "gcode_response":
            self.ws.notify("gcode_response", [payload])

    def _notify_filelist(self, change):
        with self.lock:
            self.ws.notify("filelist_changed", [change])

    def _notify_history(self, action, job):
        self.ws.notify("history_changed", [{"action": action, "job": job}])

    def _loaded_print(self):
        with self.lock:
            filename, state = self.jobs.loaded()
            return filename, state, self.klippy.connected and self.klippy.state == "ready"

    # ------------------------------------------------------------------ endpoints

    def _add(self, path, methods, handler, **options):
        endpoint = Endpoint(path, methods, handler, **options)
        self.endpoints[path] = endpoint
        for method, name in endpoint.rpc_names.items():
            self.rpc_methods[name] = (endpoint, method)

    def _register_endpoints(self):
        add = self._add
        add("/server/info", ["GET"], self._server_info)
        add("/server/config", ["GET"], self._server_config)
        add("/server/files/list", ["GET"], lambda req: self.files.list_files(req.get_str("root", "gcodes")))
        add("/server/files/metadata", ["GET"], lambda req: self.files.get_metadata(req.get_str("filename")))
        add("/server/files/directory", ["GET"], self._files_directory,
            rpc_names={"GET": "server.files.get_directory"})
        add("/server/files/delete_file", ["DELETE"], lambda req: self.files.delete(req.get_str("path")),
            transports=("WEBSOCKET",))
        if "history" in self.conf:
            add("/server/history/list", ["GET"], self._history_list)
            add("/server/history/job", ["GET", "DELETE"], self._history_job)
        add("/server/webcams/list", ["GET"], self._webcams)
        add("/server/connection/identify", ["POST"], self._identify, auth_required=False,
            transports=("WEBSOCKET",))
        add("/printer/print/start", ["POST"], self._print_start, locked=False)
        for action in ("pause", "resume", "cancel"):
            add(f"/printer/print/{action}", ["POST"],
                lambda req, action=action: self._print_control(action, req), locked=False)
        add("/printer/restart", ["POST"], lambda req: self._restart("restart", req), locked=False)
        add("/printer/firmware_restart", ["POST"], lambda req: self._restart("firmware_restart", req),
            locked=False)
        for name in self.klippy.endpoints():
            add(f"/printer/{name}", ["GET", "POST"], lambda req, name=name: self._remote(name, req),
                remote=True, locked=False, object_args=name in ("objects/query", "objects/subscribe"))
        add("/access/login", ["POST"], lambda req: self.auth.login(
            req.get_str("username"), req.get_str("password"), req.ip, create=False), auth_required=False)
        add("/access/logout", ["POST"], lambda req: self.auth.logout(req.user))
        add("/access/refresh_jwt", ["POST"], lambda req: self.auth.refresh(req.get_str("refresh_token")),
            auth_required=False)
        add("/access/user", ["GET", "POST", "DELETE"], self._access_user)
        add("/access/users/list", ["GET"], self._access_users)
        add("/access/api_key", ["GET", "POST"],
            lambda req: self.auth.rotate_api_key() if req.method == "POST" else self.auth.api_key)
        add("/access/oneshot_token", ["GET"], lambda req: self.auth.issue_oneshot(req.ip, req.user))
        add("/access/info", ["GET"], self._access_info, auth_required=False)

    def find_endpoint(self, path):
        """Return the endpoint registered at `path` (Klippy's only once it has ever connected)."""
        endpoint = self.endpoints.get(path)
        if endpoint is not None and endpoint.remote and not self.klippy.ever_connected:
            return None
        return endpoint

    def call(self, endpoint, method, args, user, ip, transport, connection=None):
        """Run an endpoint's handler (under the state lock unless it waits for Klippy)."""
        request = ApiRequest(args, method, user, ip, transport, connection)
        if endpoint.locked:
            with self.lock:
                return endpoint.handler(request)
        return endpoint.handler(request)

    def _server_info(self, req):
        components = list(_COMPONENTS) + (["history"] if "history" in self.conf else [])
        return {
            "klippy_connected": self.klippy.connected,
            "klippy_state": self.klippy.state,
            "components": components,
            "failed_components": [],
            "registered_directories": ["config", "logs", "gcodes"],
            "warnings": [],
            "websocket_count": len(self.ws.connections),
            "moonraker_version": self.scenario["klippy"]["moonraker_version"],
            "missing_klippy_requirements": [],
            "api_version": list(API_VERSION),
            "api_version_string": ".".join(str(part) for part in API_VERSION),
        }

    def _server_config(self, req):
        config = json.loads(json.dumps(self.conf))
        server = config.setdefault("server", {})
        server.setdefault("host", self.host)
        server["port"] = self.port
        server.setdefault("ssl_port", self.ssl_port or 7130)
        server.setdefault("klippy_uds_address", os.path.join(self.data_dir, "comms", "klippy.sock"))
        orig = {section: {option: format_option(value) for option, value in options.items()}
                for section, options in config.items()}
        return {"config": config, "orig": orig,
                "files": [{"filename": "moonraker.conf", "sections": list(config)}]}

    def _files_directory(self, req):
        return self.files.list_directory(req.get_str("path", "gcodes"), req.get_bool("extended", False))

    def _history_list(self, req):
        order = req.get_str("order", "desc").upper()
        if order not in ("ASC", "DESC"):
            raise ApiError.server(f"Invalid `order` value: {order}", 400)
        before = req.get_number("before", -1.0, float)
        since = req.get_number("since", -1.0, float)
        jobs = self.jobs.list_jobs(req.get_number("start", 0, int), req.get_number("limit", 50, int),
                                   None if since == -1 else since, None if before == -1 else before, order)
        return {"count": len(jobs), "jobs": jobs}

    def _history_job(self, req):
        if req.method == "DELETE" and req.get_bool("all", False):
            deleted = [job["job_id"] for job in self.jobs.jobs]
            self.jobs.jobs.clear()
            return {"deleted_jobs": deleted}
        uid = req.get_str("uid")
        if req.method == "DELETE":
            if not self.jobs.delete_job(uid):
                raise ApiError.server(f"Invalid job uid: {uid}", 404)
            return {"deleted_jobs": [uid]}
        job = self.jobs.find_job(uid)
        if job is None:
            raise ApiError.server(f"Invalid job uid: {uid}", 404)
        return {"job": self.jobs.prepare(job)}

    def _webcams(self, req):
        webcams = []
        for section, options in self.conf.items():
            if not section.startswith("webcam "):
                continue
            name = section.split(" ", 1)[1]
            webcam = {"name": name}
            for option, default in _WEBCAM_DEFAULTS.items():
                webcam[option] = options.get(option, default)
            webcam.update({"extra_data": {}, "source": "config",
                           "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"moonraker-emulator/webcam/{name}"))})
            webcams.append(webcam)
        return {"webcams": webcams}

    def _identify(self, req):
        connection = req.connection
        if connection.identified:
            raise ApiError.server(f"Connection already identified: {connection.client_data}")
        name = req.get_str("client_name")
        version = req.get_str("version")
        client_type = req.get_str("type").lower()
        url = req.get_str("url")
        token = req.get_str("access_token", None)
        api_key = req.get_str("api_key", None)
        if token is not None:
            connection.user = self.auth.decode_token(token)
        elif api_key is not None and connection.user is None:
            if not self.auth.enable_api_key:
                raise ApiError.server("API Key authentication is disabled", 401)
            if api_key != self.auth.api_key:
                raise ApiError.server("Invalid API Key", 401)
            connection.user = self.auth.users[API_USER]
        elif connection.need_auth:
            raise ApiError.server("Unauthorized", 401)
        connection.need_auth = connection.user is None
        if client_type not in CLIENT_TYPES:
            raise ApiError.server(f"Invalid Client Type: {client_type}")
        connection.client_data = {"name": name, "version": version, "type": client_type, "url": url}
        connection.identified = True
        if client_type == "agent":
            if name in self.ws.agents:
                connection.client_data["type"] = ""
                raise ApiError.server(f"Agent '{name}' already registered and connected")
            self.ws.agents[name] = connection
        return {"connection_id": connection.uid}

    def _access_user(self, req):
        if req.method == "POST":
            return self.auth.login(req.get_str("username"), req.get_str("password"), req.ip, create=True)
        if req.method == "DELETE":
            return self.auth.delete_user(req.get_str("username"), req.user)
        user = req.user or {}
        return {"username": user.get("username"), "source": user.get("source"),
                "created_on": user.get("created_on")}

    def _access_users(self, req):
        return {"users": [{"username": user["username"], "source": user["source"],
                           "created_on": user["created_on"]}
                          for name, user in self.auth.users.items() if name != API_USER]}

    def _access_info(self, req):
        trusted = bool(req.user and req.user["username"] == TRUSTED_USER) or self.auth.is_trusted_ip(req.ip)
        return {"default_source": self.auth.default_source, "available_sources": ["moonraker"],
                "login_required": self.auth.force_logins and self.auth.real_user_count() > 0,
                "trusted": trusted}

    # ------------------------------------------------------------------ Klippy-bound endpoints

    def _klippy_request(self, endpoint, args, origin):
        try:
            return self.klippy.request(endpoint, args, origin)
        except CommandError as error:
            raise ApiError.server(str(error), 400) from error
        except KlippyUnavailable as error:
            raise ApiError.server(str(error), 503) from error

    def _record_call(self, action, transport, outcome, **details):
        entry = {"action": action, "transport": transport}
        entry.update(details)
        entry.update(outcome)
        self.records.add("printer_calls", entry)

    def _run_recorded(self, action, transport, function, **details):
        try:
            result = function()
        except ApiError as error:
            self._record_call(action, transport, {"status": error.status, "error": error.rpc_message()},
                              **details)
            raise
        self._record_call(action, transport, {"status": 200, "result": result}, **details)
        return result

    def start_print(self, filename, user, transport):
        """Moonraker's start_print: SDCARD_PRINT_FILE with the file name's double quotes escaped."""
        if filename.startswith("/"):
            filename = filename[1:]
        escaped = filename.replace('"', '\\"')
        script = f'SDCARD_PRINT_FILE FILENAME="{escaped}"'
        self._run_recorded("print_start", transport,
                           lambda: self._klippy_request("gcode/script", {"script": script}, "print_start"),
                           filename=filename, script=script)
        with self.lock:
            self.jobs.note_job_requested(user["username"] if user else "No User")
        return "ok"

    def _start_print_from_upload(self, filename, user):
        try:
            self.start_print(filename, user, "upload")
        except ApiError:
            return False
        return True

    def _print_start(self, req):
        return self.start_print(req.get_str("filename"), req.user, req.transport)

    def _print_control(self, action, req):
        return self._run_recorded(f"print_{action}", req.transport,
                                  lambda: self._klippy_request(f"pause_resume/{action}", {}, "pause_resume"))

    def _restart(self, kind, req):
        def restart():
            """Send the restart; Klippy going away is the expected answer."""
            try:
                return self._klippy_request("gcode/script", {"script": kind.upper()}, kind)
            except ApiError as error:
                if error.message == "Klippy Disconnected":
                    return "ok"
                raise
        return self._run_recorded(kind, req.transport, restart)

    def _remote(self, name, req):
        if name == "objects/subscribe":
            if req.transport == "HTTP":
                raise ApiError.server("Subscriptions not available for HTTP transport", 404)
            objects = req.args.get("objects") or {}
            snapshot = self._klippy_request("objects/query", {"objects": objects}, "subscription")
            with self.lock:
                return self.ws.subscribe(req.connection, objects, snapshot)
        if name == "emergency_stop":
            return self._run_recorded("emergency_stop", req.transport,
                                      lambda: self._klippy_request(name, req.args, "emergency_stop"))
        if name == "gcode/script":
            script = req.args.get("script")
            try:
                result = self._klippy_request(name, req.args, "gcode_script")
            except ApiError as error:
                self.records.add("gcode_scripts", {"script": script, "transport": req.transport,
                                                   "status": error.status, "error": error.rpc_message()})
                raise
            self.records.add("gcode_scripts", {"script": script, "transport": req.transport, "status": 200,
                                               "result": result})
            return result
        return self._klippy_request(name, req.args, "gcode_script")

    # ------------------------------------------------------------------ HTTP

    def delay_for(self, method, path):
        """Return how long an injected delay hangs this request (0 when none applies)."""
        with self.lock:
            for rule in self.delays:
                if rule.matches(method, path):
                    if rule.remaining > 0:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self.delays.remove(rule)
                    return rule.seconds
        return 0.0

    def authenticate(self, headers, query, ip, auth_required):
        """Authenticate an HTTP request or websocket upgrade (see Authorization.authenticate)."""
        with self.lock:
            return self.auth.authenticate(headers, query, ip, auth_required)

    @staticmethod
    def http_args(endpoint, query_pairs, content_type, body):
        """Build an endpoint's arguments from the query string and a JSON or form body."""
        args = {}
        for key, value in query_pairs:
            if key in EXCLUDED_ARGS:
                continue
            if endpoint.object_args:
                args[key] = value.split(",") if value else None
            else:
                args[key] = value
        if endpoint.object_args:
            args = {"objects": args}
        if content_type.startswith("application/json") and body:
            try:
                parsed = json.loads(body)
            except ValueError as error:
                raise ApiError.server("Error Parsing Request Arguments. Is the Content-Type correct?") from error
            if isinstance(parsed, dict):
                args.update(parsed)
        elif content_type.startswith("application/x-www-form-urlencoded") and body:
            args.update(urllib.parse.parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        return args

    def handle_http(self, method, path, query_pairs, headers, body, ip):
        """Answer a request to a Moonraker API route (not upload, files, JSON-RPC or websocket)."""
        query = dict(query_pairs)
        endpoint = self.find_endpoint(path)
        if endpoint is not None and "HTTP" not in endpoint.transports:
            endpoint = None
        try:
            user = self.authenticate(headers, query, ip, endpoint.auth_required if endpoint else True)
            if endpoint is None:
                raise ApiError.http(404)
            if method not in endpoint.methods:
                raise ApiError.http(405)
            args = self.http_args(endpoint, query_pairs, headers.get("Content-Type", ""), body)
            result = self.call(endpoint, method, args, user, ip, "HTTP")
        except ApiError as error:
            return Response.error(error)
        return Response.json(200, {"result": result})

    def upload(self, form, user, base_url):
        """Answer POST /server/files/upload: 201 with a Location header, or the upload error."""
        try:
            result, location = self.files.upload(form, user)
        except ApiError as error:
            self.records.add("uploads", {"filename": form.get("file", (None, b""))[0], "status": error.status,
                                         "error": error.rpc_message()})
            return Response.error(error)
        file_name, data = form["file"]
        self.records.add("uploads", {
            "filename": file_name, "root": result["item"]["root"], "path": result["item"]["path"],
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "checksum": form["checksum"][1].decode() if "checksum" in form else None,
            "print": form["print"][1].decode() if "print" in form else None,
            "print_started": result.get("print_started"), "status": 201})
        return Response.json(201, result, headers=[("Location", base_url + location)])

    def file_request(self, method, root, path):
        """GET (download) or DELETE of /server/files/ROOT/PATH; errors show the standard reason."""
        try:
            if method == "DELETE":
                try:
                    with self.lock:
                        result = self.files.delete(f"{root}/{path}")
                except ApiError as error:
                    raise ApiError.http(error.status, error.message) from error
                self.records.add("deleted_files", {"path": f"{root}/{path}"})
                return Response.json(200, {"result": result})
            if method != "GET":
                raise ApiError.http(405)
            data, name, _ = self.files.read_file(root, path)
        except ApiError as error:
            return Response.error(error)
        quoted = urllib.parse.quote(name)
        return Response(200, data, headers=[("Content-Disposition",
                                             f"attachment; filename=\"{name}\"; filename*=UTF-8''{quoted}")],
                        content_type="application/octet-stream")

    # ------------------------------------------------------------------ JSON-RPC

    @staticmethod
    def _rpc_error(code, message, request_id):
        return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": request_id}

    def dispatch_jsonrpc(self, text, transport):
        """Answer a JSON-RPC message (or batch); None when nothing is to be sent back."""
        try:
            message = json.loads(text)
        except ValueError:
            return json.dumps(self._rpc_error(-32700, "Parse error", None))
        if isinstance(message, list):
            answers = [answer for answer in (self._process_rpc(item, transport) for item in message) if answer]
            return json.dumps(answers) if answers else None
        answer = self._process_rpc(message, transport)
        return json.dumps(answer) if answer is not None else None

    def _process_rpc(self, message, transport):
        if not isinstance(message, dict):
            return self._rpc_error(-32600, "Invalid Request", None)
        request_id = message.get("id")
        if message.get("jsonrpc") != "2.0":
            return self._rpc_error(-32600, "Invalid Request", request_id)
        if "method" not in message:
            return None
        name = message["method"]
        if not isinstance(name, str):
            return self._rpc_error(-32600, "Invalid Request", request_id)
        found = self.rpc_methods.get(name)
        if found is None or (found[0].remote and not self.klippy.ever_connected):
            return self._rpc_error(-32601, "Method not found", request_id)
        endpoint, method = found
        if transport.kind not in endpoint.transports:
            return self._rpc_error(-32601, f"Method not found for transport {transport.kind}", request_id)
        params = message.get("params", {})
        if not isinstance(params, dict):
            return self._rpc_error(-32602, "Invalid params:", request_id)
        try:
            connection = transport.connection
            needs_login = connection.need_auth if connection is not None else transport.user is None
            if needs_login and endpoint.auth_required:
                raise ApiError.server("Unauthorized", 401)
            user = connection.user if connection is not None else transport.user
            result = self.call(endpoint, method, params, user, transport.ip, transport.kind, connection)
        except ApiError as error:
            code = {404: -32601, 401: -32602}.get(error.status, error.status)
            return self._rpc_error(code, error.rpc_message(), request_id)
        if request_id is None:
            return None
        return {"jsonrpc": "2.0", "result": result, "id": request_id}

    # ------------------------------------------------------------------ emulator control

    def control(self, action):
        """Apply a fault or control action from POST /_emulator/control (see the README)."""
        if not isinstance(action, dict) or not isinstance(action.get("action"), str):
            raise ControlError("expected a JSON object with an 'action'")
        name = action["action"]
        handlers = {
            "delay": lambda: self.delays.append(DelayRule(action.get("path", "/"), action.get("method"),
                                                          action.get("seconds", 1.0), action.get("count", 1))),
            "clear_delays": self.delays.clear,
            "refuse_connections": lambda: self.refuse_connections(float(action.get("seconds", 1.0))),
            "klippy_connect": lambda: self.klippy.connect(action.get("state"), action.get("message")),
            "klippy_disconnect": self.klippy.disconnect,
            "klippy_shutdown": lambda: self.klippy.shutdown(action.get("message") or DEFAULT_SHUTDOWN_MESSAGE,
                                                            action.get("mcu_reason") or DEFAULT_MCU_REASON),
            "klippy_hang": lambda: self.klippy.hang(action.get("seconds")),
            "klippy_unhang": self.klippy.unhang,
            "print_error": lambda: self.klippy.inject_print_error(action.get("message", "Injected error")),
            "remove_file": lambda: self.files.remove_behind_our_back(action["path"]),
            "filament_runout": lambda: self.klippy.filament_runout(action.get("sensor")),
            "set_timeline": lambda: self._set_timeline(action.get("values", {})),
            "clear_records": self.records.clear,
        }
        if name not in handlers:
            raise ControlError(f"unknown action '{name}'")
        try:
            handlers[name]()
        except KeyError as error:
            raise ControlError(f"missing parameter {error}") from error
        except (ValueError, TypeError) as error:
            raise ControlError(str(error), 409) from error
        except KlippyUnavailable as error:
            raise ControlError(str(error), 409) from error
        except CommandError as error:
            raise ControlError(str(error), 409) from error

    def _set_timeline(self, values):
        with self.lock:
            self.klippy.timeline.update(values)
            self.klippy.changed.notify_all()

    def emulator_state(self):
        """Return what the emulator received plus a summary of Klippy (GET /_emulator/state)."""
        state = self.records.snapshot()
        with self.lock:
            state.update({
                "api_key": self.auth.api_key,
                "klippy": self.klippy.summary(),
                "queued_jobs": list(self.files.queued_jobs),
                "websocket_count": len(self.ws.connections),
                "history_jobs": [self.jobs.prepare(job) for job in self.jobs.jobs],
            })
        return state
