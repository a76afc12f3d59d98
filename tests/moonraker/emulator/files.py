"""Moonraker's file manager: roots, uploads, listings, metadata and deletes.

Roots live in the emulator's data directory: `gcodes` (always writable),
`config` (writable unless `enable_config_write_access: False`) and `logs`
(read-only). A file that is being printed or paused cannot be overwritten
or deleted (403). `.ufp` uploads are unzipped to `.gcode`.
"""

import hashlib
import io
import os
import urllib.parse
import zipfile

from .api import ApiError
from .metadata import VALID_GCODE_EXTENSIONS, extract_metadata

ROOTS = ("config", "logs", "gcodes")
_UFP_MODEL = "3D/model.gcode"
_UFP_THUMBNAIL = "Metadata/thumbnail.png"


class FileManager:
    """Files under the roots plus their metadata.

    `loaded_print()` returns (filename, state, klippy_ready) as Moonraker's
    job state last saw them; `notify(event)` sends notify_filelist_changed;
    `start_print(filename, user)` starts a print and returns True on success.
    """

    def __init__(self, data_dir, conf, loaded_print, notify, start_print):
        self.paths = {root: os.path.join(data_dir, root) for root in ROOTS}
        for path in self.paths.values():
            os.makedirs(path, exist_ok=True)
        self.full_access = {"gcodes"}
        if conf.get("enable_config_write_access", True):
            self.full_access.add("config")
        self.queue_gcodes = bool(conf.get("queue_gcode_uploads", False))
        self.metadata = {}
        self.queued_jobs = []
        self.loaded_print = loaded_print
        self.notify = notify
        self.start_print = start_print

    # ------------------------------------------------------------------ paths

    def relative_path(self, root, full_path):
        """Return `full_path` relative to its root."""
        return os.path.relpath(full_path, self.paths[root])

    def path_info(self, full_path, root):
        """Return modified, size and permissions of a file or folder (zeros when it is gone)."""
        try:
            status = os.stat(full_path)
        except OSError:
            return {"modified": 0, "size": 0, "permissions": ""}
        return {"modified": status.st_mtime, "size": status.st_size,
                "permissions": "rw" if root in self.full_access else "r"}

    def item(self, root, full_path):
        """Return the `item` of a file-list change: path info plus path and root."""
        info = self.path_info(full_path, root)
        info.update({"path": self.relative_path(root, full_path), "root": root})
        return info

    def convert_request_path(self, request_path):
        """Split "ROOT/PATH" into (root, absolute path), refusing unknown roots and escapes."""
        parts = os.path.normpath(request_path).strip("/").split("/", 1)
        root = parts[0]
        if root not in self.paths:
            raise ApiError.server(f"Invalid root path ({root})")
        root_path = self.paths[root]
        full_path = root_path
        if len(parts) > 1:
            full_path = os.path.abspath(os.path.join(root_path, parts[1]))
            if not full_path.startswith(root_path):
                raise ApiError.server(f"Invalid path request, '{request_path}' is outside root '{root}'")
        return root, full_path

    def operation_check(self, full_path):
        """Refuse (403) touching the file being printed or paused; return True when no print runs."""
        gcode_root = self.paths["gcodes"]
        if not full_path.startswith(gcode_root + os.sep):
            return True
        filename, state, ready = self.loaded_print()
        printing = ready and state in ("printing", "paused")
        if filename and printing:
            loaded = os.path.join(gcode_root, filename)
            if os.path.isdir(full_path):
                if loaded.startswith(full_path):
                    raise ApiError.server("File currently in use", 403)
            elif loaded == full_path:
                raise ApiError.server("File currently in use", 403)
        return not printing

    # ------------------------------------------------------------------ upload

    def upload(self, form, user):
        """Store a multipart upload; return (result, location path). Errors are Tornado HTTPErrors."""
        file_name, data = form.get("file", (None, b""))
        calculated = hashlib.sha256(data).hexdigest()
        checksum = self._field(form, "checksum").lower()
        if checksum and checksum != calculated:
            raise ApiError.http(422, f"File checksum mismatch: expected {checksum}, calculated {calculated}")
        if file_name is None or not file_name.strip():
            raise ApiError.http(400, "Multipart filename omitted")
        try:
            return self._finalize_upload(form, file_name, data, user)
        except ApiError as error:
            if error.detail is not None:
                raise
            raise ApiError.http(error.status, error.message) from error

    @staticmethod
    def _field(form, name):
        value = form.get(name)
        return value[1].decode(errors="replace") if value else ""

    def _finalize_upload(self, form, file_name, data, user):
        root = (self._field(form, "root") or "gcodes").lower()
        if root not in self.paths:
            raise ApiError.server(f"Root {root} not available")
        root_path = self.paths[root]
        dir_path = self._field(form, "path").lstrip("/")
        filename = file_name.strip().lstrip("/")
        if dir_path:
            filename = os.path.join(dir_path, filename)
        dest = os.path.abspath(os.path.join(root_path, filename))
        if not dest.startswith(root_path):
            raise ApiError.server(f"Cannot write to path: {dest}")
        start = self._field(form, "print") == "true"
        extension = os.path.splitext(dest)[1].lower()
        unzip = extension == ".ufp" and root == "gcodes"
        if unzip:
            filename = os.path.splitext(filename)[0] + ".gcode"
            dest = os.path.splitext(dest)[0] + ".gcode"
        if root not in self.full_access:
            raise ApiError.server(f"Invalid root request: {root}")
        if root == "gcodes" and extension in VALID_GCODE_EXTENSIONS:
            result = self._finish_gcode_upload(filename, dest, data, unzip, start, user)
        else:
            self._write(dest, data, unzip=False)
            result = {"action": "create_file", "item": self.item(root, dest)}
        self.notify(dict(result))
        location = "/server/files/{}/{}".format(
            root, "/".join(urllib.parse.quote(part, safe="") for part in result["item"]["path"].split("/")))
        return result, location

    def _finish_gcode_upload(self, filename, dest, data, unzip, start, user):
        can_start = False
        try:
            can_start = self.operation_check(dest)
        except ApiError as error:
            if error.status == 403:
                raise ApiError.server("File is loaded, upload not permitted", 403) from error
        self._write(dest, data, unzip)
        self.metadata[filename] = extract_metadata(dest)
        started = queued = False
        if start:
            if can_start:
                started = self.start_print(filename, user)
            if self.queue_gcodes and not started:
                self.queued_jobs.append(filename)
                queued = True
        return {"action": "create_file", "item": self.item("gcodes", dest),
                "print_started": started, "print_queued": queued}

    @staticmethod
    def _write(dest, data, unzip):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if unzip:
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    names = {name.lstrip("/"): name for name in archive.namelist()}
                    model = archive.read(names[_UFP_MODEL])
                    thumbnail = archive.read(names[_UFP_THUMBNAIL]) if _UFP_THUMBNAIL in names else None
            except (zipfile.BadZipFile, KeyError) as error:
                raise ApiError.server(f"Invalid UFP file: {_UFP_MODEL} not found") from error
            data = model
            if thumbnail is not None:
                thumbs = os.path.join(os.path.dirname(dest), ".thumbs")
                os.makedirs(thumbs, exist_ok=True)
                stem = os.path.splitext(os.path.basename(dest))[0]
                with open(os.path.join(thumbs, stem + ".png"), "wb") as handle:
                    handle.write(thumbnail)
        try:
            with open(dest, "wb") as handle:
                handle.write(data)
        except OSError as error:
            raise ApiError.server("Unable to save file", 500) from error

    def add_initial_file(self, request_path, text):
        """Create a file given by the scenario (ROOT/PATH) with its metadata."""
        root, full_path = self.convert_request_path(request_path)
        self._write(full_path, text.encode(), unzip=False)
        if root == "gcodes" and os.path.splitext(full_path)[1].lower() in VALID_GCODE_EXTENSIONS:
            self.metadata[self.relative_path(root, full_path)] = extract_metadata(full_path)

    # ------------------------------------------------------------------ queries

    def list_files(self, root):
        """Return every file under a root as [{path, modified, size, permissions}] (G-code only in gcodes)."""
        if root not in self.paths:
            raise ApiError.server(f"Failed to build file list, invalid path: {root}: None")
        files = []
        for directory, _, names in os.walk(self.paths[root]):
            for name in names:
                if root == "gcodes" and os.path.splitext(name)[1].lower() not in VALID_GCODE_EXTENSIONS:
                    continue
                full_path = os.path.join(directory, name)
                entry = {"path": self.relative_path(root, full_path)}
                entry.update(self.path_info(full_path, root))
                files.append(entry)
        return sorted(files, key=lambda entry: entry["path"].lower())

    def list_directory(self, request_path, extended):
        """Return a folder's dirs, files, disk_usage and root_info."""
        root, full_path = self.convert_request_path(request_path)
        if not os.path.isdir(full_path):
            raise ApiError.server(f"Directory does not exist ({full_path})")
        listing = {"dirs": [], "files": []}
        for name in os.listdir(full_path):
            entry_path = os.path.join(full_path, name)
            info = self.path_info(entry_path, root)
            if os.path.isdir(entry_path):
                info["dirname"] = name
                listing["dirs"].append(info)
            elif os.path.isfile(entry_path):
                info["filename"] = name
                relative = self.relative_path(root, entry_path)
                if extended and root == "gcodes" and relative in self.metadata:
                    info.update(self.metadata[relative])
                listing["files"].append(info)
        usage = os.statvfs(full_path)
        total = usage.f_blocks * usage.f_frsize
        free = usage.f_bavail * usage.f_frsize
        listing["disk_usage"] = {"total": total, "used": total - usage.f_bfree * usage.f_frsize, "free": free}
        listing["root_info"] = {"name": root, "permissions": "rw" if root in self.full_access else "r"}
        return listing

    def get_metadata(self, filename):
        """Return a G-code file's metadata plus `filename`; 404 when there is none."""
        metadata = self.metadata.get(filename)
        if metadata is None:
            raise ApiError.server(f"Metadata not available for <{filename}>", 404)
        result = dict(metadata)
        result["filename"] = filename
        return result

    def file_exists(self, filename, modified):
        """Return True when a gcodes file exists (and has the given modification time, if any)."""
        full_path = os.path.join(self.paths["gcodes"], filename)
        if not os.path.isfile(full_path):
            return False
        return modified is None or abs(os.path.getmtime(full_path) - modified) < 1e-3

    def read_file(self, root, path):
        """Return the bytes of ROOT/PATH for a download; 404 when missing."""
        root_name, full_path = self.convert_request_path(f"{root}/{path}")
        if not os.path.isfile(full_path):
            raise ApiError.http(404)
        with open(full_path, "rb") as handle:
            return handle.read(), os.path.basename(full_path), root_name

    # ------------------------------------------------------------------ changes

    def delete(self, request_path):
        """Delete ROOT/PATH: 405 in a read-only root, 400 when missing, 403 when printing."""
        root, full_path = self.convert_request_path(request_path)
        if root not in self.full_access:
            raise ApiError.server(f"Path not available for DELETE: {request_path}", 405)
        if not os.path.isfile(full_path):
            raise ApiError.server(f"Invalid file path: {request_path}")
        self.operation_check(full_path)
        os.remove(full_path)
        if root == "gcodes":
            self.metadata.pop(self.relative_path(root, full_path), None)
        result = {"action": "delete_file", "item": self.item(root, full_path)}
        self.notify(dict(result))
        return result

    def remove_behind_our_back(self, filename):
        """Remove a gcodes file from disk without Moonraker's checks (a fault injected by tests)."""
        full_path = os.path.join(self.paths["gcodes"], filename)
        if not os.path.isfile(full_path):
            raise ValueError(f"no such file: gcodes/{filename}")
        os.remove(full_path)
        self.metadata.pop(filename, None)
        self.notify({"action": "delete_file", "item": self.item("gcodes", full_path)})
