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

from .commands import GCodeCommands
from .gcode import Command, CommandError
from .klippy_base import (KLIPPER_GCODE_EXTENSIONS, KLIPPY_ENDPOINTS, MCU_HINTS, MESSAGE_READY, MESSAGE_STARTUP,
                          NOT_READY_COMMANDS, PAUSE_RESUME_ENDPOINTS, SHUTDOWN_SUFFIX, DEFAULT_ERROR_MESSAGE,
                          DEFAULT_SHUTDOWN_MESSAGE, GCodeMutex, KlippyUnavailable, Wait)
from .printer_objects import Extruder, Heater, Motion, PrintStats, PrinterConfig, Timeline, VirtualSD

class KlippyHost(GCodeCommands):
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
                target_message = ("Previous MCU 'mcu' shutdown: " + reason + MCU_HINTS.get(reason, "")
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
            """Return the heater's status after advancing it to `now`."""
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
