"""Definitions shared by the emulated Klippy host and its G-code commands.

Klipper's state messages (texts of several lines where Klipper has them, so
that Moonraker's HTTP reason phrase becomes "Unknown"), the exceptions and
the G-code mutex.
"""

import collections
import threading

MESSAGE_READY = "Printer is ready"
MESSAGE_STARTUP = ("\nPrinter is not ready\nThe klippy host software is still starting;\n"
                   "retry in a few moments.\n")
_FIRMWARERESTART_ADVICE = ("\nOnce the cause is fixed, send FIRMWARE_RESTART to reset the firmware,\n"
                            "reload the config and restart the host software.\n")
RESTART_ADVICE = ("\nOnce the cause is fixed, send RESTART to reload the config\n"
                   "and restart the host software.\nPrinter is halted\n")
SHUTDOWN_SUFFIX = _FIRMWARERESTART_ADVICE + "Printer is shutdown\n"
DEFAULT_MCU_REASON = "ADC out of range"
DEFAULT_SHUTDOWN_MESSAGE = ("MCU 'mcu' shutdown: ADC out of range\n"
                            "A heater temperature went outside its min_temp or max_temp." + SHUTDOWN_SUFFIX)
DEFAULT_ERROR_MESSAGE = "mcu 'mcu': Unable to connect" + _FIRMWARERESTART_ADVICE + "Error configuring printer\n"
MCU_HINTS = {"Command request": "\nThis usually follows an M112 command or an internal host software error.",
              "ADC out of range": "\nA heater temperature went outside its min_temp or max_temp."}

NOT_READY_COMMANDS = frozenset({"RESTART", "FIRMWARE_RESTART", "STATUS", "M112", "M115", "M110", "M105", "M21"})
KLIPPER_GCODE_EXTENSIONS = ("gcode", "g", "gco")
PAUSE_RESUME_ENDPOINTS = ("pause_resume/pause", "pause_resume/resume", "pause_resume/cancel")
KLIPPY_ENDPOINTS = ("info", "emergency_stop", "gcode/help", "gcode/script", "gcode/restart",
                    "gcode/firmware_restart", "objects/list", "objects/query", "objects/subscribe")


class KlippyUnavailable(Exception):
    """Klippy is not connected ("Klippy Host not connected") or went away mid-request ("Klippy Disconnected")."""


class Wait:
    """The blocking part of a command: a fixed time or until a condition holds (e.g. a heater settled)."""

    def __init__(self, seconds=None, until=None):
        self.seconds = seconds
        self.until = until


class GCodeMutex:
    """Klipper's G-code mutex with first-come-first-served hand-over.

    The SD print loop queues like any request, so a request that arrives
    while a file line runs is served before the next line, as Klipper's loop
    yields to pending requests.
    """

    def __init__(self):
        self._condition = threading.Condition()
        self._queue = collections.deque()
        self._held = False

    def acquire(self, should_abandon):
        """Wait for the mutex; return False (without it) once `should_abandon()` is true."""
        ticket = object()
        with self._condition:
            self._queue.append(ticket)
            while self._held or self._queue[0] is not ticket:
                if should_abandon():
                    self._queue.remove(ticket)
                    self._condition.notify_all()
                    return False
                self._condition.wait(0.02)
            self._queue.popleft()
            self._held = True
            return True

    def release(self):
        """Hand the mutex to the next waiter."""
        with self._condition:
            self._held = False
            self._condition.notify_all()
