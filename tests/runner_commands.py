"""What the GitHub Actions runner reads as workflow commands in a step's output.

A small model of the runner's command processing (actions/runner, ActionCommandManager
and ActionCommand): a line whose first non-blank characters are `::name …::data`, or
that holds `##[name …]data` anywhere (the legacy form); `::stop-commands::TOKEN` makes
the runner ignore every command until the line `::TOKEN::` (either form). The runner
only acts on names it knows; this model counts every name, so it sees more than the
runner would, never less. Both stdout and stderr are processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str


@dataclass
class Runner:
    """Feed it a step's output; `commands` is what the runner acted on."""

    commands: list[Command] = field(default_factory=list)
    stopped_until: str | None = None

    def feed(self, output: str) -> Runner:
        # The runner reads lines as .NET's ReadLine does: \n, \r\n or \r end a line.
        for line in output.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            self._line(line)
        return self

    def _line(self, line: str) -> None:
        command = _parse_v2(line) or _parse_legacy(line)
        if command is None:
            return
        if self.stopped_until is not None:
            if self.stopped_until and command.name.lower() == self.stopped_until.lower():
                self.commands.append(command)
                self.stopped_until = None
            return
        self.commands.append(command)
        if command.name.lower() == "stop-commands":
            self.stopped_until = command.data

    @property
    def stopped(self) -> bool:
        return self.stopped_until is not None


def _parse_v2(line: str) -> Command | None:
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    info = text[2:end]
    name, _, props = info.partition(" ")
    if not name:
        return None
    properties = {}
    for pair in props.strip().split(","):
        key, sep, value = pair.partition("=")
        if sep and key and value:
            properties[key] = _unescape(value, property_=True)
    return Command(name, properties, _unescape(text[end + 2 :]))


def _parse_legacy(line: str) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + 3 : close]
    name, _, props = info.partition(" ")
    if not name:
        return None
    properties = {}
    for pair in props.split(";"):
        key, sep, value = pair.partition("=")
        if sep and key and value:
            properties[key] = value
    return Command(name, properties, line[close + 1 :])


def _unescape(value: str, *, property_: bool = False) -> str:
    value = value.replace("%0D", "\r").replace("%0A", "\n")
    if property_:
        value = value.replace("%3A", ":").replace("%2C", ",")
    return value.replace("%25", "%")
