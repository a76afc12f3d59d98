"""What the emulator received, kept so tests can assert on it (GET /_emulator/state)."""

import threading
import time


class Records:
    """Thread-safe, append-only logs of everything that reached the emulated printer.

    Lists: `http_requests` (method, path, status), `uploads`, `gcode_scripts`
    (scripts sent to `printer.gcode.script` on any transport), `printer_calls`
    (print start/pause/resume/cancel, emergency stop, restarts),
    `klipper_commands` (every G-code line Klipper ran that did not come from a
    printed file, with its origin), `shell_commands` and `deleted_files`.
    """

    LISTS = ("http_requests", "uploads", "gcode_scripts", "printer_calls",
             "klipper_commands", "shell_commands", "deleted_files")

    def __init__(self):
        self._lock = threading.Lock()
        self._lists = {name: [] for name in self.LISTS}

    def add(self, name, entry):
        """Append `entry` (a dict) to list `name`, stamped with the wall-clock time."""
        stamped = dict(entry)
        stamped["time"] = time.time()
        with self._lock:
            self._lists[name].append(stamped)

    def snapshot(self):
        """Return a copy of every list."""
        with self._lock:
            return {name: [dict(entry) for entry in entries] for name, entries in self._lists.items()}

    def clear(self):
        """Empty every list."""
        with self._lock:
            for entries in self._lists.values():
                entries.clear()
