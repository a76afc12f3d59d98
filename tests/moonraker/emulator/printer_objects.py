"""Printer objects of the emulated Klipper: configuration, heaters, motion, print statistics, SD card.

Each class keeps the state that Klipper reports through `printer.objects.query`
and applies Klipper's checks (temperature ranges, axis limits, extrusion
limits) with Klipper's error texts. None of them locks; the owner holds the
emulator's state lock.
"""

import math

from .gcode import CommandError
from .scenario import format_option


class PrinterConfig:
    """printer.cfg sections with typed access; records what was read for `configfile.settings`."""

    def __init__(self, sections):
        self.sections = {name: dict(options) for name, options in sections.items()}
        self.settings = {}
        for name, options in self.sections.items():
            self.settings[name.lower()] = {option.lower(): value for option, value in options.items()}

    def has(self, section):
        """Return True when the section exists."""
        return section in self.sections

    def names_with_prefix(self, prefix):
        """Return the section names starting with `prefix` (e.g. 'gcode_macro ')."""
        return [name for name in self.sections if name.startswith(prefix)]

    def _raw(self, section, option, default):
        return self.sections.get(section, {}).get(option, default)

    def _track(self, section, option, value):
        self.settings.setdefault(section.lower(), {})[option.lower()] = value
        return value

    def get_float(self, section, option, default):
        """Return an option as a float (Klipper's default when absent)."""
        return self._track(section, option, float(self._raw(section, option, default)))

    def get_str(self, section, option, default):
        """Return an option as text (Klipper's default when absent)."""
        value = self._raw(section, option, default)
        return self._track(section, option, None if value is None else str(value))

    def get_bool(self, section, option, default):
        """Return an option as a boolean, accepting True/False and 1/0 spellings."""
        value = self._raw(section, option, default)
        if isinstance(value, str):
            value = value.strip().lower() in ("true", "1", "yes")
        return self._track(section, option, bool(value))

    def raw_status(self):
        """Return every option as text, as `configfile.config` shows printer.cfg."""
        return {section: {option: format_option(value).strip() for option, value in options.items()}
                for section, options in self.sections.items()}


class Timeline:
    """Speeds of the emulated world: print bytes per second, homing time, heating and cooling rates."""

    KEYS = ("bytes_per_second", "homing_seconds", "heating_rate", "cooling_rate", "ambient_temperature")

    def __init__(self, values):
        self.bytes_per_second = 0.0
        self.homing_seconds = 0.0
        self.heating_rate = 0.0
        self.cooling_rate = 0.0
        self.ambient_temperature = 0.0
        self.update(values)

    def update(self, values):
        """Change some speeds; unknown keys or negative numbers raise ValueError."""
        for key, value in values.items():
            if key not in self.KEYS:
                raise ValueError(f"unknown timeline key '{key}'")
            number = float(value)
            if number < 0 and key != "ambient_temperature":
                raise ValueError(f"timeline '{key}' must not be negative")
            setattr(self, key, number)

    def as_dict(self):
        """Return the speeds as a dict."""
        return {key: getattr(self, key) for key in self.KEYS}


class Heater:
    """A heater that moves toward its target at the timeline's heating or cooling rate."""

    def __init__(self, name, min_temp, max_temp, timeline, now):
        self.name = name
        self.min_temp = min_temp
        self.max_temp = max_temp
        self.timeline = timeline
        self.temperature = timeline.ambient_temperature
        self.target = 0.0
        self.power = 0.0
        self.updated = now

    def set_target(self, degrees):
        """Set the target; a nonzero value outside min_temp..max_temp is Klipper's range error."""
        if degrees and (degrees < self.min_temp or degrees > self.max_temp):
            raise CommandError("Requested temperature (%.1f) out of range (%.1f:%.1f)"
                               % (degrees, self.min_temp, self.max_temp))
        self.target = degrees

    def advance(self, now):
        """Move the temperature toward the target for the time elapsed since the last call."""
        elapsed = max(0.0, now - self.updated)
        self.updated = now
        ambient = self.timeline.ambient_temperature
        if self.target and self.temperature < self.target:
            self.temperature = min(self.target, self.temperature + self.timeline.heating_rate * elapsed)
        else:
            floor = self.target if self.target else ambient
            if self.temperature > floor:
                self.temperature = max(floor, self.temperature - self.timeline.cooling_rate * elapsed)
        if not self.target:
            self.power = 0.0
        elif self.temperature < self.target:
            self.power = 1.0
        else:
            span = max(1.0, self.max_temp - ambient)
            self.power = round(min(1.0, max(0.0, (self.target - ambient) / span)), 3)

    def settled(self):
        """Return True when an M109/M190 wait would end (target off or within 1 degree)."""
        return not self.target or abs(self.target - self.temperature) <= 1.0

    def status(self):
        """Return the heater's `temperature`, `target` and `power`."""
        return {"temperature": round(self.temperature, 2), "target": self.target, "power": self.power}


class Motion:
    """Toolhead and G-code position: homing, absolute/relative modes, G92 offsets and move checks."""

    AXES = ("x", "y", "z")

    def __init__(self, config):
        self.limits = {}
        self.endstops = {}
        for axis in self.AXES:
            section = f"stepper_{axis}"
            self.limits[axis] = (config.get_float(section, "position_min", 0.0),
                                 config.get_float(section, "position_max", 0.0))
            self.endstops[axis] = config.get_float(section, "position_endstop", 0.0)
        self.max_velocity = config.get_float("printer", "max_velocity", 0.0)
        self.max_accel = config.get_float("printer", "max_accel", 0.0)
        self.square_corner_velocity = config.get_float("printer", "square_corner_velocity", 5.0)
        self.minimum_cruise_ratio = config.get_float("printer", "minimum_cruise_ratio", 0.5)
        config.get_str("printer", "kinematics", "cartesian")
        self.homed = set()
        self.position = [0.0, 0.0, 0.0, 0.0]
        self.base = [0.0, 0.0, 0.0, 0.0]
        self.absolute_coordinates = True
        self.absolute_extrude = True
        self.speed = 25.0
        self.speed_factor = 1.0
        self.extrude_factor = 1.0

    def gcode_position(self):
        """Return the position in G-code coordinates (toolhead position minus G92 offsets)."""
        return [pos - base for pos, base in zip(self.position, self.base)]

    def home(self, axes):
        """Home the given axes: they move to their endstop and accept moves from now on."""
        for axis in axes:
            self.homed.add(axis)
            self.position[self.AXES.index(axis)] = self.endstops[axis]

    def motors_off(self):
        """Disable the steppers: every axis must be homed again."""
        self.homed.clear()

    def set_gcode_position(self, values):
        """G92: make the current position read as `values` (axis index -> coordinate)."""
        for index, value in values.items():
            self.base[index] = self.position[index] - value

    def target_of(self, command):
        """Return the toolhead position a G0/G1 command moves to (and apply its feed rate)."""
        target = list(self.position)
        gcode_pos = self.gcode_position()
        for index, letter in enumerate("XYZ"):
            value = command.get_float(letter)
            if value is None:
                continue
            coordinate = value if self.absolute_coordinates else gcode_pos[index] + value
            target[index] = coordinate + self.base[index]
        extrude = command.get_float("E")
        if extrude is not None:
            extrude *= self.extrude_factor
            if self.absolute_coordinates and self.absolute_extrude:
                target[3] = extrude + self.base[3]
            else:
                target[3] = self.position[3] + extrude
        feed = command.get_float("F")
        if feed is not None:
            if feed <= 0.0:
                raise CommandError(f"Invalid speed in '{command.line}'")
            self.speed = feed / 60.0
        return target

    @staticmethod
    def move_error(message, target):
        """Return Klipper's move error: message, then the target x y z [e]."""
        return CommandError("%s: %.3f %.3f %.3f [%.3f]" % (message, *target))

    def check_kinematics(self, target):
        """Refuse moves of unhomed axes and moves beyond position_min/position_max."""
        for index, axis in enumerate(self.AXES):
            if target[index] == self.position[index]:
                continue
            low, high = self.limits[axis]
            if axis not in self.homed:
                raise self.move_error("Must home axis first", target)
            if target[index] < low or target[index] > high:
                raise self.move_error("Move out of range", target)


class Extruder:
    """The extruder's own limits: minimum extrusion temperature, extrude-only distance, cross-section."""

    def __init__(self, config, heater):
        self.heater = heater
        self.min_extrude_temp = config.get_float("extruder", "min_extrude_temp", 170.0)
        self.nozzle_diameter = config.get_float("extruder", "nozzle_diameter", 0.4)
        filament_diameter = config.get_float("extruder", "filament_diameter", 1.75)
        self.filament_area = math.pi * (filament_diameter * 0.5) ** 2
        self.max_e_dist = config.get_float("extruder", "max_extrude_only_distance", 50.0)
        cross_section = config.get_float("extruder", "max_extrude_cross_section",
                                         4.0 * self.nozzle_diameter ** 2)
        self.max_extrude_ratio = cross_section / self.filament_area

    def can_extrude(self):
        """Return True when the hotend is at or above min_extrude_temp."""
        return self.heater.temperature >= self.min_extrude_temp

    def check_move(self, start, target):
        """Apply Klipper's extrusion checks to a move that changes E."""
        if not self.can_extrude():
            raise CommandError("Extrude below minimum temp\n"
                               "See the 'min_extrude_temp' option in printer.cfg")
        deltas = [end - begin for begin, end in zip(start, target)]
        distance = math.sqrt(deltas[0] ** 2 + deltas[1] ** 2 + deltas[2] ** 2)
        extrude = deltas[3]
        ratio = extrude / distance if distance >= 1e-9 else math.copysign(1.0, extrude)
        if (not deltas[0] and not deltas[1]) or ratio < 0.0:
            if abs(extrude) > self.max_e_dist:
                raise CommandError("Extrude only move too long (%.3fmm vs %.3fmm)\n"
                                   "See the 'max_extrude_only_distance' option in printer.cfg"
                                   % (extrude, self.max_e_dist))
        elif ratio > self.max_extrude_ratio:
            if extrude <= self.nozzle_diameter * self.max_extrude_ratio:
                return
            raise CommandError("Move exceeds maximum extrusion (%.3fmm^2 vs %.3fmm^2)\n"
                               "See the 'max_extrude_cross_section' option in printer.cfg"
                               % (ratio * self.filament_area, self.max_extrude_ratio * self.filament_area))


class PrintStats:
    """Klipper's print_stats: job state, durations (pauses and pre-extrusion time excluded), filament, layers."""

    def __init__(self):
        self.reset()

    def reset(self):
        """Back to `standby` with no file, as after SDCARD_RESET_FILE or a new file load."""
        self.filename = ""
        self.message = ""
        self.state = "standby"
        self.prev_pause_duration = 0.0
        self.last_epos = 0.0
        self.filament_used = 0.0
        self.total_duration = 0.0
        self.print_start_time = None
        self.last_pause_time = None
        self.init_duration = 0.0
        self.total_layer = None
        self.current_layer = None

    def set_current_file(self, filename):
        """Reset and remember the file about to be printed."""
        self.reset()
        self.filename = filename

    def update_filament(self, epos, extrude_factor):
        """Account for extruder movement since the last update."""
        self.filament_used += (epos - self.last_epos) / extrude_factor
        self.last_epos = epos

    def note_start(self, now, epos):
        """The SD loop (re)started: state `printing`, pause time accounted."""
        if self.print_start_time is None:
            self.print_start_time = now
        elif self.last_pause_time is not None:
            self.prev_pause_duration += now - self.last_pause_time
            self.last_pause_time = None
        self.last_epos = epos
        self.state = "printing"
        self.message = ""

    def note_pause(self, now, epos, extrude_factor):
        """The SD loop stopped without finishing: state `paused` unless already `error`."""
        if self.last_pause_time is None:
            self.last_pause_time = now
            self.update_filament(epos, extrude_factor)
        if self.state != "error":
            self.state = "paused"

    def note_finish(self, state, now, message=""):
        """The job ended as `complete`, `cancelled` or `error` (with its message)."""
        if self.print_start_time is None:
            return
        self.state = state
        self.message = message
        self.total_duration = now - self.print_start_time
        if self.filament_used < 1e-7:
            self.init_duration = self.total_duration - self.prev_pause_duration
        self.print_start_time = None

    def set_layer_info(self, total_layer, current_layer):
        """SET_PRINT_STATS_INFO: a total of 0 clears the info; a new total restarts at layer 0."""
        if total_layer == 0:
            self.total_layer = None
            self.current_layer = None
        elif total_layer != self.total_layer:
            self.total_layer = total_layer
            self.current_layer = 0
        if self.total_layer is not None and current_layer is not None and current_layer != self.current_layer:
            self.current_layer = min(current_layer, self.total_layer)

    def status(self, now, epos, extrude_factor):
        """Return Klipper's print_stats status at time `now`."""
        time_paused = self.prev_pause_duration
        if self.print_start_time is not None:
            if self.last_pause_time is not None:
                time_paused += now - self.last_pause_time
            else:
                self.update_filament(epos, extrude_factor)
            self.total_duration = now - self.print_start_time
            if self.filament_used < 1e-7:
                self.init_duration = self.total_duration - time_paused
        return {
            "filename": self.filename,
            "total_duration": self.total_duration,
            "print_duration": self.total_duration - self.init_duration - time_paused,
            "filament_used": self.filament_used,
            "state": self.state,
            "message": self.message,
            "info": {"total_layer": self.total_layer, "current_layer": self.current_layer},
        }


class VirtualSD:
    """The virtual SD card: the open file, read position and whether the print loop runs.

    `work_id` changes whenever the print loop is started or stopped, so a loop
    thread can tell it has been superseded; `load_id` changes when a file is
    loaded or unloaded. A final line without a newline is never run, as in
    Klipper.
    """

    def __init__(self):
        self.handle = None
        self.path = None
        self.file_position = 0
        self.file_size = 0
        self.next_file_position = 0
        self.active = False
        self.work_id = 0
        self.load_id = 0
        self.buffer = b""
        self.injected_error = None
        self.last_line_bytes = 0

    def load(self, handle, path, size):
        """Take an opened file as the current one."""
        self.handle = handle
        self.path = path
        self.file_position = 0
        self.file_size = size
        self.buffer = b""
        self.load_id += 1

    def close(self):
        """Close and forget the current file."""
        if self.handle is not None:
            self.handle.close()
        self.handle = None
        self.buffer = b""
        self.load_id += 1

    def read_line(self):
        """Return the next complete line at file_position (text), or None at end of file."""
        if self.handle is None:
            return None
        if not self.buffer or b"\n" not in self.buffer:
            self.handle.seek(self.file_position + len(self.buffer))
        while b"\n" not in self.buffer:
            chunk = self.handle.read(8192)
            if not chunk:
                return None
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\n", 1)
        self.next_file_position = self.file_position + len(raw) + 1
        self.last_line_bytes = len(raw) + 1
        return raw.decode("utf-8", errors="replace")

    def progress(self):
        """Return file_position / file_size (0 without a file size)."""
        return float(self.file_position) / self.file_size if self.file_size else 0.0

    def status(self):
        """Return Klipper's virtual_sdcard status."""
        return {
            "file_path": self.path if self.handle is not None else None,
            "progress": self.progress(),
            "is_active": self.active,
            "file_position": self.file_position,
            "file_size": self.file_size,
        }
