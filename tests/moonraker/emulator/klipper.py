"""The emulated Klippy host: connection life cycle, endpoints, G-code dispatcher and SD print loop.

`KlippyHost` answers the requests Moonraker forwards to Klippy
(`objects/query`, `gcode/script`, `pause_resume/*`, `emergency_stop`,
`info` ...). Every G-code command runs under Klipper's G-code mutex, so a
request sent while the printer homes or waits for a temperature waits too;
Moonraker adds no timeout. Printing a file advances the virtual SD card line
by line at the timeline's bytes-per-second rate.

All state is guarded by the emulator's state lock (`self.lock`); blocking
steps (homing, temperature waits, pacing) release it but keep the mutex.
Events for the Moonraker layer go through `listener(event, payload)`:
`connected`, `started` (state), `shutdown`, `disconnected`, `gcode_response`.
"""

import collections
import copy
import math
import os
import threading
import time

from .gcode import Command, CommandError, expand_macro
from .printer_objects import Extruder, Heater, Motion, PrintStats, PrinterConfig, Timeline, VirtualSD

MESSAGE_READY = "Printer is ready"
MESSAGE_STARTUP = ("\nPrinter is not ready\nThe klippy host software is still starting;\n"
                   "retry in a few moments.\n")
_FIRMWARE_RESTART_ADVICE = ("\nOnce the cause is fixed, send FIRMWARE_RESTART to reset the firmware,\n"
                            "reload the config and restart the host software.\n")
_RESTART_ADVICE = ("\nOnce the cause is fixed, send RESTART to reload the config\n"
                   "and restart the host software.\nPrinter is halted\n")
SHUTDOWN_SUFFIX = _FIRMWARE_RESTART_ADVICE + "Printer is shutdown\n"
DEFAULT_MCU_REASON = "ADC out of range"
DEFAULT_SHUTDOWN_MESSAGE = ("MCU 'mcu' shutdown: ADC out of range\n"
                            "A heater temperature went outside its min_temp or max_temp." + SHUTDOWN_SUFFIX)
DEFAULT_ERROR_MESSAGE = "mcu 'mcu': Unable to connect" + _FIRMWARE_RESTART_ADVICE + "Error configuring printer\n"
_MCU_HINTS = {"Command request": "\nThis usually follows an M112 command or an internal host software error.",
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


class KlippyHost:
    """The Klippy process and its printer objects, as Moonraker sees them."""

    def __init__(self, scenario, data_dir, lock, records, listener):
        self.lock = lock
        self.changed = threading.Condition(lock)
        self.records = records
        self.listener = listener
        self.settings = scenario["klippy"]
        self.printer_sections = scenario["printer_cfg"]
        self.timeline = Timeline(scenario["timeline"])
        self.data_dir = data_dir
        self.gcode_dir = os.path.join(data_dir, "gcodes")
        self.mutex = GCodeMutex()
        self.connected = False
        self.ever_connected = False
        self.generation = 0
        self.reconnect_token = 0
        self.hung_until = 0.0
        self.mcu_shutdown_reason = None
        self.stopping = False
        self.state = "disconnected"
        self.state_message = "Klippy Disconnected"
        self.current_origin = None
        self._timers = []
        self._load_printer()

    # ------------------------------------------------------------------ life cycle

    def _load_printer(self):
        now = time.monotonic()
        sections = dict(self.printer_sections)
        sections["virtual_sdcard"] = {"path": self.gcode_dir, **sections.get("virtual_sdcard", {})}
        self.config = PrinterConfig(sections)
        self.heaters = {}
        for name in ("extruder", "heater_bed"):
            if self.config.has(name):
                self.heaters[name] = Heater(name, self.config.get_float(name, "min_temp", 0.0),
                                            self.config.get_float(name, "max_temp", 0.0), self.timeline, now)
        self.motion = Motion(self.config)
        self.extruder = Extruder(self.config, self.heaters["extruder"]) if "extruder" in self.heaters else None
        self.print_stats = PrintStats()
        self.sd = VirtualSD()
        self.on_error_gcode = self.config.get_str("virtual_sdcard", "on_error_gcode",
                                                  "TURN_OFF_HEATERS" if self.heaters else "")
        self.is_paused = False
        self.pause_command_sent = False
        self.sd_paused = False
        self.display_message = None
        self.m73_progress = None
        self.m73_expires = 0.0
        self.fan_speed = 0.0
        self.output_pins = {name.split(" ", 1)[1]: 0.0 for name in self.config.names_with_prefix("output_pin ")}
        self.sensors = {}
        for name in self.config.names_with_prefix("filament_switch_sensor "):
            self.sensors[name.split(" ", 1)[1]] = {"filament_detected": True, "enabled": True}
        self.exclude_objects = {"objects": [], "excluded_objects": [], "current_object": None}
        self.config_error = None
        self.handlers = self._build_handlers()

    def _schedule(self, delay, function, *args):
        timer = threading.Timer(delay, function, args)
        timer.daemon = True
        self._timers = [pending for pending in self._timers if pending.is_alive()]
        self._timers.append(timer)
        timer.start()

    def connect(self, state=None, message=None):
        """Klippy (re)connects with a fresh printer; after `startup_seconds` it reaches `state`."""
        with self.lock:
            if self.connected or self.stopping:
                return False
            self.reconnect_token += 1
            self.generation += 1
            self.connected = True
            self.ever_connected = True
            self._load_printer()
            target_state = state or self.settings["state"]
            target_message = message or self.settings["state_message"]
            if self.config_error:
                target_state, target_message = "error", self.config_error
            elif self.mcu_shutdown_reason:
                reason = self.mcu_shutdown_reason
                target_state = "shutdown"
                target_message = ("Previous MCU 'mcu' shutdown: " + reason + _MCU_HINTS.get(reason, "")
                                  + SHUTDOWN_SUFFIX)
            self.state = "startup"
            self.state_message = MESSAGE_STARTUP
            self.listener("connected", None)
            startup = float(self.settings["startup_seconds"])
            if startup > 0 and target_state != "startup":
                self._schedule(startup, self._finish_startup, self.generation, target_state, target_message)
            elif target_state != "startup":
                self._finish_startup(self.generation, target_state, target_message)
            self.changed.notify_all()
            return True

    def _finish_startup(self, generation, state, message):
        with self.lock:
            if generation != self.generation or not self.connected:
                return
            self.state = state
            if state == "ready":
                self.state_message = MESSAGE_READY
            elif state == "shutdown":
                self.state_message = message or DEFAULT_SHUTDOWN_MESSAGE
                for heater in self.heaters.values():
                    heater.target = 0.0
            else:
                self.state_message = message or DEFAULT_ERROR_MESSAGE
            self.listener("started", state)
            self.changed.notify_all()

    def disconnect(self):
        """The Klippy process goes away until `connect` (or a scheduled restart) brings it back."""
        with self.lock:
            self.reconnect_token += 1
            if not self.connected:
                return False
            self._drop_connection()
            return True

    def _drop_connection(self):
        self.connected = False
        self.generation += 1
        self.state = "disconnected"
        self.state_message = "Klippy Disconnected"
        self.hung_until = 0.0
        if self.sd.active:
            self.sd.active = False
            self.sd.work_id += 1
        self.sd.close()
        self.listener("disconnected", None)
        self.changed.notify_all()

    def restart(self, kind):
        """RESTART or FIRMWARE_RESTART: disconnect now, reconnect after `restart_seconds`.

        Only a firmware restart clears an MCU shutdown; after a plain restart
        Klippy comes back in `shutdown` ("Previous MCU 'mcu' shutdown: ...").
        """
        with self.lock:
            if kind == "firmware_restart":
                self.mcu_shutdown_reason = None
            if self.connected:
                self._drop_connection()
            self.reconnect_token += 1
            self._schedule(float(self.settings["restart_seconds"]), self._reconnect, self.reconnect_token)

    def _reconnect(self, token):
        with self.lock:
            if token == self.reconnect_token:
                self.connect()

    def shutdown(self, message, mcu_reason):
        """Klippy enters `shutdown`: heaters off, the SD loop stops, G-code fails with `message`."""
        with self.lock:
            if not self.connected or self.state == "shutdown":
                return False
            now = time.monotonic()
            self.state = "shutdown"
            self.state_message = message
            self.mcu_shutdown_reason = mcu_reason
            for heater in self.heaters.values():
                heater.advance(now)
                heater.target = 0.0
            self._sd_stop(now)
            self.motion.motors_off()
            self._respond_info("Klipper state: Shutdown")
            self.listener("shutdown", message)
            self.changed.notify_all()
            return True

    def hang(self, seconds):
        """Klippy stops answering (requests and printing stall) for `seconds`, or until `unhang` when None."""
        with self.lock:
            self.hung_until = math.inf if seconds is None else time.monotonic() + float(seconds)
            self.changed.notify_all()

    def unhang(self):
        """Klippy answers again."""
        with self.lock:
            self.hung_until = 0.0
            self.changed.notify_all()

    def stop(self):
        """End every wait and loop; used when the emulator exits."""
        with self.lock:
            self.stopping = True
            self.generation += 1
            self.sd.close()
            for timer in self._timers:
                timer.cancel()
            self.changed.notify_all()

    # ------------------------------------------------------------------ requests from Moonraker

    def endpoints(self):
        """Return the endpoints Klippy registers with Moonraker (remote endpoints)."""
        names = list(KLIPPY_ENDPOINTS)
        if "pause_resume" in self.printer_sections:
            names.extend(PAUSE_RESUME_ENDPOINTS)
        return names

    def _gone(self, generation):
        return self.stopping or generation != self.generation

    def _check_generation(self, generation):
        if self._gone(generation):
            raise KlippyUnavailable("Klippy Disconnected")

    def _enter(self):
        with self.lock:
            if not self.connected:
                raise KlippyUnavailable("Klippy Host not connected")
            generation = self.generation
            while self.hung_until > time.monotonic():
                self._check_generation(generation)
                self.changed.wait(0.05)
            self._check_generation(generation)
            return generation

    def request(self, endpoint, args, origin):
        """Serve a request to a Klippy endpoint; raise CommandError (400) or KlippyUnavailable (503)."""
        generation = self._enter()
        if endpoint == "objects/query":
            return self.query(args.get("objects"))
        if endpoint == "objects/list":
            with self.lock:
                return {"objects": list(self._status_providers())}
        if endpoint == "info":
            return self.info()
        if endpoint == "emergency_stop":
            self.shutdown("Shutdown due to webhooks request" + SHUTDOWN_SUFFIX, "Command request")
            return "ok"
        if endpoint == "gcode/help":
            with self.lock:
                return {name: "" for name in sorted(self.handlers)}
        if endpoint == "gcode/script":
            script = args.get("script")
            if script is None:
                raise CommandError("Missing Argument [script]")
            if not isinstance(script, str):
                raise CommandError("Invalid Argument Type [script]")
            self.run_script(script, origin, generation)
            return "ok"
        if endpoint in ("gcode/restart", "gcode/firmware_restart"):
            self.run_script(endpoint.split("/")[1].upper(), origin, generation)
            return "ok"
        if endpoint in PAUSE_RESUME_ENDPOINTS and endpoint in self.endpoints():
            script = {"pause": "PAUSE", "resume": "RESUME", "cancel": "CANCEL_PRINT"}[endpoint.split("/")[1]]
            self.run_script(script, "pause_resume", generation)
            return "ok"
        raise CommandError(f"webhooks: No registered callback for path '{endpoint}'")

    def run_script(self, script, origin, generation):
        """Run G-code lines under the G-code mutex; the first failing line raises CommandError."""
        if not self.mutex.acquire(lambda: self._gone(generation)):
            raise KlippyUnavailable("Klippy Disconnected")
        try:
            self._execute(collections.deque(script.split("\n")), origin, generation)
        finally:
            self.mutex.release()

    def query(self, objects):
        """objects/query: the requested objects (None = all fields); unknown objects are left out."""
        if not isinstance(objects, dict):
            raise CommandError("Invalid Argument Type [objects]")
        with self.lock:
            now = time.monotonic()
            providers = self._status_providers()
            status = {}
            for name, fields in objects.items():
                if name not in providers:
                    continue
                values = providers[name](now)
                if fields is not None:
                    values = {key: values[key] for key in fields if key in values}
                status[name] = values
            return {"eventtime": now, "status": copy.deepcopy(status)}

    def info(self):
        """Return Klippy's `info` endpoint answer."""
        with self.lock:
            return {
                "state": self.state,
                "state_message": self.state_message,
                "hostname": self.settings["hostname"],
                "klipper_path": "/home/pi/klipper",
                "python_path": "/home/pi/klippy-env/bin/python",
                "process_id": os.getpid(),
                "user_id": os.getuid(),
                "group_id": os.getgid(),
                "log_file": os.path.join(self.data_dir, "logs", "klippy.log"),
                "config_file": os.path.join(self.data_dir, "config", "printer.cfg"),
                "software_version": self.settings["software_version"],
                "cpu_info": "emulated",
            }

    # ------------------------------------------------------------------ faults injected by tests

    def inject_print_error(self, message):
        """The next line of the running print fails with `message` (print_stats error)."""
        with self.lock:
            if not self.sd.active:
                raise ValueError("no print is running")
            self.sd.injected_error = message
            self.changed.notify_all()

    def filament_runout(self, sensor=None):
        """A filament switch sensor reports runout: Klipper pauses the print and runs runout_gcode."""
        generation = self._enter()
        with self.lock:
            name = sensor or next(iter(self.sensors), None)
            if name not in self.sensors:
                raise ValueError("no filament_switch_sensor is configured")
            if not self.sd.active:
                raise ValueError("no print is running")
            section = f"filament_switch_sensor {name}"
            self.sensors[name]["filament_detected"] = False
            pause = self.config.get_bool(section, "pause_on_runout", True)
            runout_gcode = self.config.get_str(section, "runout_gcode", "")
            if pause:
                self._send_pause_command()
        script = ("PAUSE\n" if pause else "") + runout_gcode + "\nM400"
        self.run_script(script, "filament_runout", generation)

    # ------------------------------------------------------------------ dispatcher

    def _execute(self, pending, origin, generation):
        while pending:
            with self.lock:
                self._check_generation(generation)
                self._run_until_wait(pending, origin)
            if pending:
                self._perform_wait(pending.popleft(), generation)

    def _run_until_wait(self, pending, origin):
        while pending and not isinstance(pending[0], Wait):
            line = pending.popleft()
            try:
                followups = self._dispatch(line, origin)
            except CommandError as error:
                self._respond_error(str(error))
                raise
            if followups:
                pending.extendleft(reversed(followups))

    def _perform_wait(self, wait, generation):
        with self.lock:
            deadline = None if wait.seconds is None else time.monotonic() + wait.seconds
            while True:
                self._check_generation(generation)
                now = time.monotonic()
                if self.hung_until <= now:
                    if self.state == "shutdown":
                        return
                    if wait.until is not None and wait.until(now):
                        return
                    if deadline is not None and now >= deadline:
                        return
                self.changed.wait(0.01)

    def _dispatch(self, line, origin):
        text = line.strip()
        if not text.split(";", 1)[0].strip():
            return None
        if origin != "file":
            self.records.add("klipper_commands", {"origin": origin, "command": text})
        command = Command(text)
        now = time.monotonic()
        for heater in self.heaters.values():
            heater.advance(now)
        if self.state != "ready" and command.name not in NOT_READY_COMMANDS:
            raise CommandError(self.state_message)
        handler = self.handlers.get(command.name)
        if handler is None:
            return self._unknown_command(command)
        self.current_origin = origin
        return handler(command)

    def _unknown_command(self, command):
        if command.name in ("M106", "M107") and "fan" not in self.printer_sections:
            return None
        if command.name in ("M104", "M140") and not command.get_float("S", 0.0):
            return None
        self._respond_info(f'Unknown command:"{command.name}"')
        return None

    def _respond_raw(self, text):
        self.listener("gcode_response", text)

    def _respond_info(self, text):
        self._respond_raw("\n".join("// " + line for line in text.split("\n")))

    def _respond_error(self, message):
        lines = message.strip().split("\n")
        if len(lines) > 1:
            self._respond_info("\n".join(lines))
        self._respond_raw("!! " + lines[0].strip())

    def _build_handlers(self):
        handlers = {
            "G0": self._cmd_move, "G1": self._cmd_move, "G4": self._cmd_nothing, "G28": self._cmd_home,
            "G90": self._cmd_absolute, "G91": self._cmd_relative, "G92": self._cmd_set_position,
            "M82": self._cmd_absolute_extrude, "M83": self._cmd_relative_extrude,
            "M18": self._cmd_motors_off, "M84": self._cmd_motors_off, "M112": self._cmd_emergency_stop,
            "M114": self._cmd_position, "M115": self._cmd_firmware_info, "M105": self._cmd_temperatures,
            "M117": self._cmd_display_message, "M73": self._cmd_display_progress, "M204": self._cmd_set_accel,
            "M220": self._cmd_speed_factor, "M221": self._cmd_extrude_factor, "M400": self._cmd_nothing,
            "M110": self._cmd_nothing, "M21": self._cmd_sd_init,
            "SET_VELOCITY_LIMIT": self._cmd_set_velocity_limit,
            "SET_PRINT_STATS_INFO": self._cmd_set_print_stats_info,
            "SET_DISPLAY_TEXT": self._cmd_set_display_text,
            "SDCARD_PRINT_FILE": self._cmd_sdcard_print_file, "SDCARD_RESET_FILE": self._cmd_sdcard_reset_file,
            "M28": self._cmd_sd_write, "M29": self._cmd_sd_write, "M30": self._cmd_sd_write,
            "RESTART": self._cmd_restart, "FIRMWARE_RESTART": self._cmd_restart,
            "SAVE_CONFIG": self._cmd_save_config, "STATUS": self._cmd_status,
        }
        if self.heaters:
            handlers["TURN_OFF_HEATERS"] = self._cmd_turn_off_heaters
            handlers["SET_HEATER_TEMPERATURE"] = self._cmd_set_heater_temperature
        if "extruder" in self.heaters:
            handlers["M104"] = lambda command: self._set_heater("extruder", command, wait=False)
            handlers["M109"] = lambda command: self._set_heater("extruder", command, wait=True)
        if "heater_bed" in self.heaters:
            handlers["M140"] = lambda command: self._set_heater("heater_bed", command, wait=False)
            handlers["M190"] = lambda command: self._set_heater("heater_bed", command, wait=True)
        if self.config.has("fan"):
            handlers["M106"] = self._cmd_fan_on
            handlers["M107"] = self._cmd_fan_off
        if self.config.has("pause_resume"):
            handlers.update({"PAUSE": self._cmd_pause, "RESUME": self._cmd_resume,
                             "CLEAR_PAUSE": self._cmd_clear_pause, "CANCEL_PRINT": self._cmd_cancel_print})
        if self.config.has("respond"):
            handlers["M118"] = self._cmd_respond
            handlers["RESPOND"] = self._cmd_respond
        if self.config.has("force_move") and self.config.get_bool("force_move", "enable_force_move", False):
            handlers["FORCE_MOVE"] = self._cmd_force_move
            handlers["SET_KINEMATIC_POSITION"] = self._cmd_set_kinematic_position
        if self.config.names_with_prefix("gcode_shell_command "):
            handlers["RUN_SHELL_COMMAND"] = self._cmd_run_shell_command
        if self.config.has("exclude_object"):
            for name in ("EXCLUDE_OBJECT_DEFINE", "EXCLUDE_OBJECT_START", "EXCLUDE_OBJECT_END", "EXCLUDE_OBJECT"):
                handlers[name] = self._cmd_exclude_object
        if self.output_pins:
            handlers["SET_PIN"] = self._cmd_set_pin
        if self.sensors:
            handlers["QUERY_FILAMENT_SENSOR"] = self._cmd_query_filament_sensor
            handlers["SET_FILAMENT_SENSOR"] = self._cmd_set_filament_sensor
        for section in self.config.names_with_prefix("gcode_macro "):
            self._register_macro(handlers, section)
        return handlers

    def _register_macro(self, handlers, section):
        name = section.split(" ", 1)[1].upper()
        template = self.config.get_str(section, "gcode", "")
        rename = self.config.get_str(section, "rename_existing", None)
        self.config.get_str(section, "description", "G-Code macro")
        if rename:
            if name not in handlers:
                self.config_error = (f"Existing command '{name}' not found in gcode_macro rename"
                                     + _RESTART_ADVICE)
                return
            handlers[rename.upper()] = handlers[name]
        elif name in handlers:
            self.config_error = f"gcode command {name} already registered" + _RESTART_ADVICE
            return
        handlers[name] = lambda command: expand_macro(template, command)

    # ------------------------------------------------------------------ G-code handlers

    @staticmethod
    def _cmd_nothing(command):
        return None

    def _cmd_move(self, command):
        target = self.motion.target_of(command)
        start = list(self.motion.position)
        if target == start:
            return None
        self.motion.check_kinematics(target)
        if target[3] != start[3]:
            if self.extruder is None:
                raise CommandError("Extrude when no extruder present")
            self.extruder.check_move(start, target)
        self.motion.position = target
        return None

    def _cmd_home(self, command):
        axes = [axis for axis in Motion.AXES if axis.upper() in command.params] or list(Motion.AXES)
        self.motion.home(axes)
        seconds = self.timeline.homing_seconds
        return [Wait(seconds=seconds)] if seconds > 0 else None

    def _cmd_absolute(self, command):
        self.motion.absolute_coordinates = True

    def _cmd_relative(self, command):
        self.motion.absolute_coordinates = False

    def _cmd_absolute_extrude(self, command):
        self.motion.absolute_extrude = True

    def _cmd_relative_extrude(self, command):
        self.motion.absolute_extrude = False

    def _cmd_set_position(self, command):
        values = {index: command.get_float(letter) for index, letter in enumerate("XYZE") if command.has(letter)}
        self.motion.set_gcode_position(values or {index: 0.0 for index in range(4)})

    def _cmd_motors_off(self, command):
        self.motion.motors_off()

    def _cmd_emergency_stop(self, command):
        self.shutdown("Shutdown due to M112 command" + SHUTDOWN_SUFFIX, "Command request")

    def _cmd_position(self, command):
        self._respond_raw("X:%.3f Y:%.3f Z:%.3f E:%.3f" % tuple(self.motion.gcode_position()))

    def _cmd_firmware_info(self, command):
        self._respond_info(f"FIRMWARE_NAME:Klipper FIRMWARE_VERSION:{self.settings['software_version']}")

    def _cmd_temperatures(self, command):
        parts = []
        for name, label in (("heater_bed", "B"), ("extruder", "T0")):
            if name in self.heaters:
                heater = self.heaters[name]
                parts.append("%s:%.1f /%.1f" % (label, heater.temperature, heater.target))
        self._respond_raw("ok " + " ".join(parts))

    def _cmd_display_message(self, command):
        self.display_message = command.raw_params or None

    def _cmd_set_display_text(self, command):
        self.display_message = command.get("MSG")

    def _cmd_display_progress(self, command):
        percent = command.get_float("P")
        if percent is not None:
            self.m73_progress = min(1.0, max(0.0, percent / 100.0))
            self.m73_expires = time.monotonic() + 5.0

    def _cmd_set_accel(self, command):
        accel = command.get_float("S", above=0.0)
        if accel is None:
            first = command.get_float("P", above=0.0)
            second = command.get_float("T", above=0.0)
            if first is None or second is None:
                self._respond_info(f'Invalid M204 command "{command.line}"')
                return
            accel = min(first, second)
        self.motion.max_accel = accel

    def _cmd_speed_factor(self, command):
        self.motion.speed_factor = command.get_float("S", 100.0, above=0.0) / 100.0

    def _cmd_extrude_factor(self, command):
        self.motion.extrude_factor = command.get_float("S", 100.0, above=0.0) / 100.0

    def _cmd_sd_init(self, command):
        self._respond_raw("SD card ok")

    def _cmd_set_velocity_limit(self, command):
        velocity = command.get_float("VELOCITY", above=0.0)
        accel = command.get_float("ACCEL", above=0.0)
        corner = command.get_float("SQUARE_CORNER_VELOCITY", minval=0.0)
        cruise = command.get_float("MINIMUM_CRUISE_RATIO", minval=0.0, below=1.0)
        motion = self.motion
        motion.max_velocity = velocity if velocity is not None else motion.max_velocity
        motion.max_accel = accel if accel is not None else motion.max_accel
        motion.square_corner_velocity = corner if corner is not None else motion.square_corner_velocity
        motion.minimum_cruise_ratio = cruise if cruise is not None else motion.minimum_cruise_ratio
        if velocity is None and accel is None and corner is None and cruise is None:
            self._respond_info("max_velocity: %.6f\nmax_accel: %.6f\nminimum_cruise_ratio: %.6f\n"
                               "square_corner_velocity: %.6f" % (motion.max_velocity, motion.max_accel,
                                                                 motion.minimum_cruise_ratio,
                                                                 motion.square_corner_velocity))

    def _cmd_set_print_stats_info(self, command):
        stats = self.print_stats
        total = command.get_int("TOTAL_LAYER", stats.total_layer, minval=0)
        current = command.get_int("CURRENT_LAYER", stats.current_layer, minval=0)
        stats.set_layer_info(total, current)

    def _set_heater(self, name, command, wait):
        degrees = command.get_float("S", 0.0)
        heater = self.heaters[name]
        heater.set_target(degrees)
        if wait and degrees:
            return [Wait(until=lambda now: (heater.advance(now), heater.settled())[1])]
        return None

    def _cmd_turn_off_heaters(self, command):
        for heater in self.heaters.values():
            heater.target = 0.0

    def _cmd_set_heater_temperature(self, command):
        name = command.get("HEATER", required=True)
        if name not in self.heaters:
            raise CommandError(f"The value '{name}' is not valid for HEATER")
        self.heaters[name].set_target(command.get_float("TARGET", 0.0))

    def _cmd_fan_on(self, command):
        self.fan_speed = min(1.0, max(0.0, command.get_float("S", 255.0) / 255.0))

    def _cmd_fan_off(self, command):
        self.fan_speed = 0.0

    def _cmd_sd_write(self, command):
        raise CommandError("SD write not supported")

    def _cmd_restart(self, command):
        self.restart(command.name.lower())
        raise KlippyUnavailable("Klippy Disconnected")

    def _cmd_save_config(self, command):
        config_path = os.path.join(self.data_dir, "config", "printer.cfg")
        if os.path.exists(config_path):
            os.utime(config_path)
        self.restart("restart")
        raise KlippyUnavailable("Klippy Disconnected")

    def _cmd_status(self, command):
        if self.state == "ready":
            self._respond_info("Klipper state: Ready")
            return
        raise CommandError(self.state_message.rstrip() + "\nKlipper state: Not ready")

    def _cmd_respond(self, command):
        message = command.raw_params if command.name == "M118" else command.get("MSG", "")
        self._respond_raw(f"echo: {message}")

    def _cmd_force_move(self, command):
        command.get("STEPPER", required=True)
        command.get_float("DISTANCE", required=True)
        command.get_float("VELOCITY", required=True, above=0.0)

    def _cmd_set_kinematic_position(self, command):
        for index, letter in enumerate("XYZ"):
            value = command.get_float(letter)
            if value is not None:
                self.motion.position[index] = value
        self.motion.homed.update(Motion.AXES)

    def _cmd_run_shell_command(self, command):
        name = command.get("CMD", required=True)
        section = f"gcode_shell_command {name}"
        if not self.config.has(section):
            raise CommandError(f"The value '{name}' is not valid for CMD")
        self.records.add("shell_commands", {"name": name, "command": self.config.get_str(section, "command", ""),
                                            "params": command.get("PARAMS", "")})
        self._respond_info(f"Running shell command '{name}' (not executed by the emulator)")

    def _cmd_exclude_object(self, command):
        name = command.get("NAME")
        if command.name == "EXCLUDE_OBJECT_DEFINE" and name:
            self.exclude_objects["objects"].append({"name": name.upper()})
        elif command.name == "EXCLUDE_OBJECT_START":
            self.exclude_objects["current_object"] = name.upper() if name else None
        elif command.name == "EXCLUDE_OBJECT_END":
            self.exclude_objects["current_object"] = None
        elif command.name == "EXCLUDE_OBJECT" and name:
            self.exclude_objects["excluded_objects"].append(name.upper())

    def _cmd_set_pin(self, command):
        pin = command.get("PIN", required=True)
        if pin not in self.output_pins:
            raise CommandError(f"The value '{pin}' is not valid for PIN")
        self.output_pins[pin] = command.get_float("VALUE", required=True, minval=0.0)

    def _sensor_of(self, command):
        name = command.get("SENSOR", required=True)
        if name not in self.sensors:
            raise CommandError(f"The value '{name}' is not valid for SENSOR")
        return name

    def _cmd_query_filament_sensor(self, command):
        name = self._sensor_of(command)
        detected = "filament detected" if self.sensors[name]["filament_detected"] else "filament not detected"
        self._respond_info(f"Filament Sensor {name}: {detected}")

    def _cmd_set_filament_sensor(self, command):
        name = self._sensor_of(command)
        self.sensors[name]["enabled"] = bool(command.get_int("ENABLE", 1))

    # ------------------------------------------------------------------ pause_resume

    def _send_pause_command(self):
        if self.pause_command_sent:
            return
        if self.sd.active:
            self.sd_paused = True
            self._sd_stop(time.monotonic())
        else:
            self.sd_paused = False
            self._respond_info("action:paused")
        self.pause_command_sent = True

    def _cmd_pause(self, command):
        if self.is_paused:
            self._respond_info("Print already paused")
            return
        self._send_pause_command()
        self.is_paused = True

    def _cmd_resume(self, command):
        if not self.is_paused:
            self._respond_info("Print is not paused, resume aborted")
            return
        if self.sd_paused:
            self._sd_resume()
            self.sd_paused = False
        else:
            self._respond_info("action:resumed")
        self.pause_command_sent = False
        self.is_paused = False

    def _cmd_clear_pause(self, command):
        self.is_paused = False
        self.pause_command_sent = False

    def _cmd_cancel_print(self, command):
        if self.sd.active or self.sd_paused:
            self._sd_cancel()
        else:
            self._respond_info("action:cancel")
        self._cmd_clear_pause(command)

    # ------------------------------------------------------------------ virtual SD card

    def _find_gcode_file(self, filename):
        files = []
        for directory, _, names in os.walk(self.gcode_dir, followlinks=True):
            for name in names:
                if name[name.rfind(".") + 1:] in KLIPPER_GCODE_EXTENSIONS:
                    files.append(os.path.relpath(os.path.join(directory, name), self.gcode_dir))
        if filename not in files:
            by_lower = {name.lower(): name for name in files}
            filename = by_lower.get(filename.lower())
            if filename is None:
                return None
        return os.path.join(self.gcode_dir, filename)

    def _cmd_sdcard_print_file(self, command):
        if self.sd.active:
            raise CommandError("SD busy")
        self._sd_reset_file()
        filename = command.get("FILENAME", required=True)
        if filename.startswith("/"):
            filename = filename[1:]
        path = self._find_gcode_file(filename)
        try:
            if path is None:
                raise OSError(filename)
            handle = open(path, "rb")
        except OSError as error:
            raise CommandError("Unable to open file") from error
        size = os.fstat(handle.fileno()).st_size
        self._respond_raw(f"File opened:{filename} Size:{size}")
        self._respond_raw("File selected")
        self.sd.load(handle, path, size)
        self.print_stats.set_current_file(filename)
        self._sd_resume()

    def _cmd_sdcard_reset_file(self, command):
        if self.current_origin == "file":
            raise CommandError("SDCARD_RESET_FILE cannot be run from the sdcard")
        self._sd_reset_file()

    def _sd_reset_file(self):
        self._sd_stop(time.monotonic())
        self.sd.close()
        self.sd.file_position = 0
        self.sd.file_size = 0
        self.print_stats.reset()

    def _sd_stop(self, now):
        if not self.sd.active:
            return
        self.sd.active = False
        self.sd.work_id += 1
        self.print_stats.note_pause(now, self.motion.position[3], self.motion.extrude_factor)
        self.changed.notify_all()

    def _sd_cancel(self):
        if self.sd.handle is not None:
            now = time.monotonic()
            self._sd_stop(now)
            self.sd.close()
            self.print_stats.note_finish("cancelled", now)
        self.sd.file_position = 0
        self.sd.file_size = 0

    def _sd_resume(self):
        if self.sd.active:
            raise CommandError("SD busy")
        if self.sd.handle is None:
            return
        self.sd.active = True
        self.sd.work_id += 1
        work = self.sd.work_id
        self.print_stats.note_start(time.monotonic(), self.motion.position[3])
        load = self.sd.load_id
        pending = self._sd_step(work)
        if pending is not None:
            thread = threading.Thread(target=self._sd_loop, args=(work, self.generation, pending, load),
                                      name=f"virtual-sdcard-{work}", daemon=True)
            thread.start()
        self.changed.notify_all()

    def _sd_step(self, work):
        """Read the next line and run it up to its first blocking step (lock and mutex held).

        Returns the rest of the line's work (empty when done), or None when the
        print loop ended (end of file, error, pause, cancel).
        """
        if self.sd.injected_error is not None:
            message, self.sd.injected_error = self.sd.injected_error, None
            self._respond_error(message)
            self._sd_fail(message)
            return None
        line = self.sd.read_line()
        if line is None:
            self._sd_complete()
            return None
        load = self.sd.load_id
        pending = collections.deque([line])
        try:
            self._run_until_wait(pending, "file")
        except CommandError as error:
            if self.sd.work_id == work:
                self._sd_fail(str(error))
            return None
        except KlippyUnavailable:
            return None
        if not pending:
            self._sd_line_done(load)
        return pending if self.sd.work_id == work and self.sd.active else None

    def _sd_line_done(self, load):
        if self.sd.load_id == load:
            self.sd.file_position = self.sd.next_file_position

    def _sd_superseded(self, work, generation):
        return self._gone(generation) or self.sd.work_id != work or not self.sd.active

    def _sd_loop(self, work, generation, pending, load):
        if not pending:
            pending = None
            if not self._sd_pace(work, generation):
                return
        while True:
            if not self.mutex.acquire(lambda: self._sd_superseded(work, generation)):
                return
            try:
                if pending is None:
                    with self.lock:
                        if self._sd_superseded(work, generation):
                            return
                        load = self.sd.load_id
                        pending = self._sd_step(work)
                    if pending is None:
                        return
                if pending and not self._sd_finish_line(work, generation, pending, load):
                    return
            finally:
                self.mutex.release()
            pending = None
            if not self._sd_pace(work, generation):
                return

    def _sd_finish_line(self, work, generation, pending, load):
        try:
            self._execute(pending, "file", generation)
        except CommandError as error:
            with self.lock:
                if self.sd.work_id == work:
                    self._sd_fail(str(error))
            return False
        except KlippyUnavailable:
            return False
        with self.lock:
            self._sd_line_done(load)
            return not self._sd_superseded(work, generation)

    def _sd_pace(self, work, generation):
        """Wait as long as the last line takes at the current byte rate (not counting hangs)."""
        with self.lock:
            elapsed = 0.0
            last = time.monotonic()
            while True:
                if self._sd_superseded(work, generation):
                    return False
                now = time.monotonic()
                if self.hung_until <= now:
                    elapsed += now - last
                last = now
                rate = self.timeline.bytes_per_second
                needed = self.sd.last_line_bytes / rate if rate > 0 else math.inf
                if elapsed >= needed and self.hung_until <= now:
                    return True
                self.changed.wait(min(max(needed - elapsed, 0.001), 0.05))

    def _sd_complete(self):
        now = time.monotonic()
        self.print_stats.update_filament(self.motion.position[3], self.motion.extrude_factor)
        self.sd.active = False
        self.sd.work_id += 1
        self.sd.close()
        self.print_stats.note_finish("complete", now)
        self._respond_raw("Done printing file")
        self.changed.notify_all()

    def _sd_fail(self, message):
        self.sd.active = False
        self.sd.work_id += 1
        pending = collections.deque(self.on_error_gcode.split("\n"))
        try:
            self._run_until_wait(pending, "on_error_gcode")
        except (CommandError, KlippyUnavailable):
            pass
        self.print_stats.update_filament(self.motion.position[3], self.motion.extrude_factor)
        self.print_stats.note_finish("error", time.monotonic(), message)
        self.changed.notify_all()

    # ------------------------------------------------------------------ status

    def print_stats_status(self):
        """Return print_stats as Klipper reports it now (for the job-state tracker)."""
        with self.lock:
            return self.print_stats.status(time.monotonic(), self.motion.position[3], self.motion.extrude_factor)

    def _status_providers(self):
        providers = {"webhooks": lambda now: {"state": self.state, "state_message": self.state_message}}
        if self.state == "startup":
            return providers
        motion = self.motion
        providers.update({
            "configfile": lambda now: {"config": self.config.raw_status(), "settings": self.config.settings,
                                       "save_config_pending": False, "save_config_pending_items": {},
                                       "warnings": []},
            "print_stats": lambda now: self.print_stats.status(now, motion.position[3], motion.extrude_factor),
            "virtual_sdcard": lambda now: self.sd.status(),
            "toolhead": self._toolhead_status,
            "gcode_move": self._gcode_move_status,
            "idle_timeout": lambda now: {"state": "Printing" if self.sd.active else "Ready", "printing_time": 0.0},
            "heaters": lambda now: {"available_heaters": list(self.heaters),
                                    "available_sensors": list(self.heaters), "available_monitors": []},
        })
        for name, heater in self.heaters.items():
            providers[name] = self._heater_status_provider(name, heater)
        if self.config.has("fan"):
            providers["fan"] = lambda now: {"speed": self.fan_speed, "rpm": None}
        if self.config.has("display_status"):
            providers["display_status"] = self._display_status
        if self.config.has("pause_resume"):
            providers["pause_resume"] = lambda now: {"is_paused": self.is_paused}
        if self.config.has("exclude_object"):
            providers["exclude_object"] = lambda now: dict(self.exclude_objects)
        for name, sensor in self.sensors.items():
            providers[f"filament_switch_sensor {name}"] = lambda now, sensor=sensor: dict(sensor)
        for name, value in self.output_pins.items():
            providers[f"output_pin {name}"] = lambda now, pin=name: {"value": self.output_pins[pin]}
        for section in self.config.names_with_prefix("gcode_macro "):
            providers[section] = lambda now: {}
        return providers

    def _heater_status_provider(self, name, heater):
        def status(now):
            heater.advance(now)
            values = heater.status()
            if name == "extruder":
                values.update({"can_extrude": self.extruder.can_extrude(), "pressure_advance": 0.0,
                               "smooth_time": 0.04, "motion_queue": None})
            return values
        return status

    def _toolhead_status(self, now):
        motion = self.motion
        minimum = [motion.limits[axis][0] for axis in Motion.AXES] + [0.0]
        maximum = [motion.limits[axis][1] for axis in Motion.AXES] + [0.0]
        return {
            "homed_axes": "".join(axis for axis in Motion.AXES if axis in motion.homed),
            "axis_minimum": minimum, "axis_maximum": maximum,
            "print_time": now, "stalls": 0, "estimated_print_time": now,
            "extruder": "extruder", "position": list(motion.position),
            "max_velocity": motion.max_velocity, "max_accel": motion.max_accel,
            "minimum_cruise_ratio": motion.minimum_cruise_ratio,
            "square_corner_velocity": motion.square_corner_velocity,
        }

    def _gcode_move_status(self, now):
        motion = self.motion
        return {
            "speed_factor": motion.speed_factor, "speed": motion.speed * 60.0,
            "extrude_factor": motion.extrude_factor, "absolute_coordinates": motion.absolute_coordinates,
            "absolute_extrude": motion.absolute_extrude, "homing_origin": [0.0, 0.0, 0.0, 0.0],
            "position": list(motion.position), "gcode_position": motion.gcode_position(),
        }

    def _display_status(self, now):
        progress = self.m73_progress
        if progress is not None and now > self.m73_expires and not self.sd.active:
            self.m73_progress = progress = None
        if progress is None:
            progress = self.sd.progress()
        return {"progress": progress, "message": self.display_message}

    def summary(self):
        """Return the Klippy state, heaters and homing for GET /_emulator/state."""
        with self.lock:
            now = time.monotonic()
            heaters = {}
            for name, heater in self.heaters.items():
                heater.advance(now)
                heaters[name] = heater.status()
            return {
                "connected": self.connected, "ever_connected": self.ever_connected,
                "state": self.state, "state_message": self.state_message,
                "hung": self.hung_until > now, "timeline": self.timeline.as_dict(), "heaters": heaters,
                "homed_axes": "".join(axis for axis in Motion.AXES if axis in self.motion.homed),
                "is_paused": self.is_paused, "sd_active": self.sd.active,
            }
