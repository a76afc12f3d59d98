"""The G-code commands of the emulated Klipper (everything except the virtual SD card's).

`GCodeCommands` is a mixin of `KlippyHost`: its handlers run with the state
lock held and return None, or a list of follow-up lines and `Wait` steps
(homing, temperature waits) that the dispatcher performs with only the
G-code mutex held.
"""

import os
import time

from .gcode import CommandError, expand_macro
from .klippy_base import RESTART_ADVICE, SHUTDOWN_SUFFIX, KlippyUnavailable, Wait
from .printer_objects import Motion


class GCodeCommands:
    """Handlers for motion, heaters, display, limits, restarts, macros, pause_resume and optional sections."""

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
                                     + RESTART_ADVICE)
                return
            handlers[rename.upper()] = handlers[name]
        elif name in handlers:
            self.config_error = f"gcode command {name} already registered" + RESTART_ADVICE
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
