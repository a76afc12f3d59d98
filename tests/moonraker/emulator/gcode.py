"""G-code command parsing with Klipper's argument checks and error texts."""

import re
import shlex

_TRADITIONAL_NAME = re.compile(r"[A-Z]\d+(\.\d+)?$")
_TRADITIONAL_PARAM = re.compile(r"([A-Z])([^A-Z\s]*)")


class CommandError(Exception):
    """A G-code command failed; Klipper reports `str(error)` to the requester."""


class Command:
    """One G-code line split into a command name and its parameters.

    Traditional commands (`G1 X10 E2`) take one-letter parameters; extended
    commands (`SET_VELOCITY_LIMIT VELOCITY=500`) take KEY=VALUE pairs, as in
    Klipper. `line` is the stripped original line, used in error texts.
    """

    def __init__(self, line):
        self.line = line.strip()
        code = self.line.split(";", 1)[0].strip()
        first, _, rest = code.partition(" ")
        self.name = first.upper()
        self.raw_params = rest.strip()
        self.params = {}
        if _TRADITIONAL_NAME.match(self.name):
            for letter, value in _TRADITIONAL_PARAM.findall(self.raw_params.upper()):
                self.params[letter] = value
        elif self.raw_params:
            self.params = self._extended_params()

    def _extended_params(self):
        lexer = shlex.shlex(self.raw_params, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = "#;"
        try:
            pairs = [token.split("=", 1) for token in lexer]
            return {key.upper(): value for key, value in pairs}
        except ValueError as error:
            raise CommandError(f"Malformed command '{self.line}'") from error

    def has(self, name):
        """Return True when parameter `name` was given."""
        return name in self.params

    def get(self, name, default=None, required=False):
        """Return parameter `name` as text, or `default`; a missing required one is an error."""
        if name not in self.params:
            if required:
                raise CommandError(f"Error on '{self.line}': missing {name}")
            return default
        return self.params[name]

    def get_float(self, name, default=None, required=False, minval=None, above=None, below=None):
        """Return parameter `name` as a number with Klipper's range checks."""
        text = self.get(name, None, required)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError as error:
            raise CommandError(f"Error on '{self.line}': unable to parse {text}") from error
        if minval is not None and value < minval:
            raise CommandError(f"Error on '{self.line}': {name} must have minimum of {minval}")
        if above is not None and value <= above:
            raise CommandError(f"Error on '{self.line}': {name} must be above {above}")
        if below is not None and value >= below:
            raise CommandError(f"Error on '{self.line}': {name} must be below {below}")
        return value

    def get_int(self, name, default=None, minval=None):
        """Return parameter `name` as an integer with Klipper's minimum check."""
        text = self.get(name, None)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError as error:
            raise CommandError(f"Error on '{self.line}': unable to parse {text}") from error
        if minval is not None and value < minval:
            raise CommandError(f"Error on '{self.line}': {name} must have minimum of {minval}")
        return value


_MACRO_PARAM = re.compile(r"\{\s*params\.([A-Za-z0-9_]+)\s*\}")
_MACRO_RAWPARAMS = re.compile(r"\{\s*rawparams\s*\}")


def expand_macro(template, command):
    """Return the lines of a macro body with `{params.NAME}` and `{rawparams}` substituted.

    The emulator does not evaluate Jinja; these two forms cover macros that
    forward their arguments (for example a renamed M109 calling M109.1).
    """
    text = _MACRO_RAWPARAMS.sub(lambda _: command.raw_params, template)
    text = _MACRO_PARAM.sub(lambda match: command.params.get(match.group(1).upper(), ""), text)
    return [line for line in text.split("\n") if line.strip()]
