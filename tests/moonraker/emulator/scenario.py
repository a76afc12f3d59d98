"""Scenario: the emulated installation's configuration and starting faults.

A scenario file is a JSON object whose keys override `DEFAULT_SCENARIO`:

- `klippy`: connection life cycle (connected at start or later, state after
  connecting, startup and restart durations, reported versions).
- `timeline`: print speed in bytes per second, homing time, heating and
  cooling rates.
- `moonraker_conf`: moonraker.conf sections (`server`, `authorization`,
  `file_manager`, `history`, `webcam NAME` ...).
- `printer_cfg`: printer.cfg sections (`printer`, `stepper_x`, `extruder`,
  `gcode_macro NAME`, `force_move`, `respond`, `gcode_shell_command NAME` ...).
- `users`: Moonraker users created at start (`username`, `password`).
- `files`: files present at start, keyed by `ROOT/PATH` with text content.

Section dictionaries are merged option by option into the defaults; a
section given as `null` is removed. Top-level `klippy` and `timeline` are
merged key by key.
"""

import copy
import json

DEFAULT_SCENARIO = {
    "klippy": {
        "connected": True,
        "connect_after_seconds": None,
        "state": "ready",
        "state_message": None,
        "startup_seconds": 0.0,
        "restart_seconds": 0.2,
        "software_version": "v0.12.0-emulator",
        "moonraker_version": "v0.9.3-emulator",
        "hostname": "emulated-printer",
    },
    "timeline": {
        "bytes_per_second": 8192.0,
        "homing_seconds": 0.05,
        "heating_rate": 200.0,
        "cooling_rate": 100.0,
        "ambient_temperature": 25.0,
    },
    "moonraker_conf": {
        "server": {"max_upload_size": 1024},
        "authorization": {
            "trusted_clients": [],
            "cors_domains": [],
            "force_logins": False,
            "enable_api_key": True,
            "login_timeout": 90,
            "max_login_attempts": None,
            "default_source": "moonraker",
        },
        "file_manager": {
            "enable_config_write_access": True,
            "queue_gcode_uploads": False,
            "check_klipper_config_path": True,
            "enable_object_processing": False,
        },
        "history": {},
        "webcam front": {
            "location": "printer",
            "service": "mjpegstreamer",
            "stream_url": "/webcam/?action=stream",
            "snapshot_url": "/webcam/?action=snapshot",
        },
    },
    "printer_cfg": {
        "printer": {
            "kinematics": "cartesian",
            "max_velocity": 300.0,
            "max_accel": 3000.0,
            "square_corner_velocity": 5.0,
            "max_z_velocity": 5.0,
            "max_z_accel": 100.0,
        },
        "stepper_x": {"position_min": 0.0, "position_max": 235.0, "position_endstop": 0.0},
        "stepper_y": {"position_min": 0.0, "position_max": 235.0, "position_endstop": 0.0},
        "stepper_z": {"position_min": 0.0, "position_max": 250.0, "position_endstop": 0.0},
        "extruder": {
            "min_temp": 0.0,
            "max_temp": 250.0,
            "min_extrude_temp": 170.0,
            "nozzle_diameter": 0.4,
            "filament_diameter": 1.75,
            "max_extrude_only_distance": 50.0,
        },
        "heater_bed": {"min_temp": 0.0, "max_temp": 120.0},
        "virtual_sdcard": {},
        "pause_resume": {},
        "display_status": {},
        "fan": {},
        "filament_switch_sensor runout": {
            "pause_on_runout": True,
            "runout_gcode": "M117 Filament runout",
        },
    },
    "users": [],
    "files": {},
}

_SECTIONED_KEYS = ("moonraker_conf", "printer_cfg")
_FLAT_KEYS = ("klippy", "timeline")
_LIST_KEYS = ("users",)
_MAPPING_KEYS = ("files",)


class ScenarioError(ValueError):
    """The scenario file is not valid JSON or names keys the emulator does not know."""


def _merge_sections(defaults, overrides, where):
    if not isinstance(overrides, dict):
        raise ScenarioError(f"'{where}' must be an object of sections")
    merged = copy.deepcopy(defaults)
    for section, options in overrides.items():
        if options is None:
            merged.pop(section, None)
        elif isinstance(options, dict):
            merged.setdefault(section, {}).update(copy.deepcopy(options))
        else:
            raise ScenarioError(f"section '{where}.{section}' must be an object or null")
    return merged


def build_scenario(overrides):
    """Return the defaults merged with `overrides` (a dict read from a scenario file)."""
    if not isinstance(overrides, dict):
        raise ScenarioError("a scenario must be a JSON object")
    scenario = copy.deepcopy(DEFAULT_SCENARIO)
    for key, value in overrides.items():
        if key in _SECTIONED_KEYS:
            scenario[key] = _merge_sections(scenario[key], value, key)
        elif key in _FLAT_KEYS:
            if not isinstance(value, dict):
                raise ScenarioError(f"'{key}' must be an object")
            unknown = set(value) - set(DEFAULT_SCENARIO[key])
            if unknown:
                raise ScenarioError(f"unknown '{key}' keys: {sorted(unknown)}")
            scenario[key].update(value)
        elif key in _LIST_KEYS:
            if not isinstance(value, list):
                raise ScenarioError(f"'{key}' must be a list")
            scenario[key] = copy.deepcopy(value)
        elif key in _MAPPING_KEYS:
            if not isinstance(value, dict):
                raise ScenarioError(f"'{key}' must be an object")
            scenario[key] = copy.deepcopy(value)
        else:
            raise ScenarioError(f"unknown scenario key '{key}'")
    return scenario


def load_scenario(path):
    """Read a scenario file (or none when `path` is None) and return the merged scenario."""
    if path is None:
        return build_scenario({})
    try:
        with open(path, encoding="utf-8") as handle:
            overrides = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise ScenarioError(f"cannot read scenario {path}: {error}") from error
    return build_scenario(overrides)


def config_text(sections):
    """Render sections of options as an INI-style configuration file."""
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        for option, value in options.items():
            lines.append(f"{option}: {format_option(value)}")
        lines.append("")
    return "\n".join(lines)


def format_option(value):
    """Return an option value as it would be written in a configuration file."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return "".join(f"\n  {item}" for item in value)
    if value is None:
        return ""
    text = str(value)
    return text.replace("\n", "\n  ")
