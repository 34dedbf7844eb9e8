"""Run the processes of ``crm up`` side by side, show their output, and stop them together.

Each child runs in a session of its own, so a Ctrl-C in the terminal reaches only the
supervisor, which then stops the children in reverse start order: SIGTERM to each child,
and once the grace period is over SIGKILL to whatever is left in its process group (the
same contract as systemd's ``KillMode=mixed``). A child that exits by itself stops the rest.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TextIO

import httpx

_SELF = "supervisor"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_POLL_SECONDS = 0.1
_COLOURS = (36, 33, 32, 35, 34, 91, 96, 93)  # ANSI foreground codes, cycled per child


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """A command to supervise. ``env`` is added to the supervisor's own environment."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass(frozen=True, slots=True)
class ChildExit:
    """Why ``run()`` ended early: which child exited by itself (or could not start), and how."""

    name: str
    returncode: int
    reason: str

    @property
    def exit_code(self) -> int:
        """A non-zero code for ``run()``: the child's own, or 128 + signal like a shell."""
        if self.returncode > 0:
            return self.returncode
        return 128 - self.returncode if self.returncode < 0 else 1


@dataclass(slots=True)
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes]
    pump: threading.Thread


def _die_with_parent() -> None:
    """On Linux, ask the kernel to SIGTERM the child if the supervisor dies (even by SIGKILL), so
    a killed ``crm up`` never leaves a gateway holding its port."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Supervisor:
    """Runs named child processes until one exits or a stop is requested.

    ``run()`` returns 0 after a requested stop (signal or ``stop()``), else the non-zero
    ``ChildExit.exit_code`` of the child that ended first (see ``failure``).
    """

    def __init__(
        self,
        children: Iterable[ChildSpec] = (),
        *,
        grace_period: float = 10.0,
        output: TextIO | None = None,
        colour: bool | None = None,
    ) -> None:
        self.grace_period = grace_period
        self.failure: ChildExit | None = None
        self._specs = list(children)
        self._output = output if output is not None else sys.stdout
        self._colour = _wants_colour(self._output) if colour is None else colour
        self._children: list[_Child] = []
        self._output_lock = threading.Lock()
        self._stop_requests = 0  # an int, not an Event: signal handlers must not take locks
        self._signal_name: str | None = None
        self._width = len(_SELF)

    def add(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self._specs.append(ChildSpec(name, argv, env or {}, cwd))

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the children started so far (each is also its process group id)."""
        return {child.spec.name: child.process.pid for child in self._children}

    def stop(self) -> None:
        """Ask ``run()`` to stop the children; safe from any thread. A second call skips the
        rest of the grace period and kills what is still running."""
        self._stop_requests += 1

    def run(self) -> int:
        names = [spec.name for spec in self._specs]
        if len(set(names)) != len(names):
            raise ValueError(f"child names must be unique: {names}")
        self._width = max([len(_SELF), *map(len, names)])
        with self._signals_handled():
            self.failure = self._start_all() or self._watch()
            self._stop_all()
        if self.failure is None:
            return 0
        self._say(f"stopped because {self.failure.name} {self.failure.reason}")
        return self.failure.exit_code

    # ------------------------------------------------------------------ lifecycle

    def _start_all(self) -> ChildExit | None:
        for spec, colour in zip(self._specs, itertools.cycle(_COLOURS), strict=False):
            if self._stop_requests:
                return None
            try:
                self._children.append(self._spawn(spec, colour))
            except OSError as exc:
                return ChildExit(spec.name, 127, f"could not start: {exc}")
        return None

    def _spawn(self, spec: ChildSpec, colour: int) -> _Child:
        # Children write to a pipe, where Python would buffer output in blocks.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        process = subprocess.Popen(
            list(spec.argv),
            env=env,
            cwd=spec.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # keeps the terminal's Ctrl-C away from the child
            preexec_fn=_die_with_parent,
        )
        assert process.stdout is not None
        prefix = self._prefix(spec.name, colour)
        pump = threading.Thread(
            target=self._pump, args=(prefix, process.stdout), name=f"pump-{spec.name}", daemon=True
        )
        pump.start()
        self._say(f"started {spec.name} (pid {process.pid})")
        return _Child(spec, process, pump)

    def _watch(self) -> ChildExit | None:
        while not self._stop_requests:
            time.sleep(_POLL_SECONDS)
            for child in self._children:
                code = child.process.poll()
                if code is not None and not self._stop_requests:
                    return ChildExit(child.spec.name, code, f"exited with code {code}")
        return None

    def _stop_all(self) -> None:
        if self._signal_name is not None:
            self._say(f"received {self._signal_name}, stopping")
        elif self.failure is not None:
            self._say(f"{self.failure.name} {self.failure.reason}; stopping the others")
        deadline = time.monotonic() + self.grace_period
        for child in reversed(self._children):
            self._terminate(child, deadline)
        for child in reversed(self._children):
            self._kill_leftovers(child)

    def _terminate(self, child: _Child, deadline: float) -> None:
        if child.process.poll() is not None:
            return
        self._say(f"stopping {child.spec.name}")
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)
        while child.process.poll() is None and time.monotonic() < deadline:
            if self._stop_requests > 1:
                self._say("stop requested again: killing")
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=_POLL_SECONDS)

    def _kill_leftovers(self, child: _Child) -> None:
        if child.process.poll() is None:
            self._say(f"{child.spec.name} did not stop in time: killing it")
            child.process.kill()
        # The whole group, so no grandchild outlives `crm up` (or keeps our pipe open).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()
        child.pump.join(timeout=1.0)

    # ------------------------------------------------------------------ signals

    @contextlib.contextmanager
    def _signals_handled(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread may install handlers; stop() still works
            return
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signal_name = signal.Signals(signum).name
        self.stop()

    # ------------------------------------------------------------------ output

    def _pump(self, prefix: str, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self._write(prefix, raw.decode(errors="replace").rstrip("\r\n"))

    def _say(self, message: str) -> None:
        self._write(self._prefix(_SELF, 1), message)  # 1 = bold

    def _prefix(self, name: str, colour: int) -> str:
        label = f"{name:<{self._width}} |"
        return f"\x1b[{colour}m{label}\x1b[0m" if self._colour else label

    def _write(self, prefix: str, line: str) -> None:
        # A closed stdout (`crm up | head`) must not stop the pumps: a child whose pipe is
        # no longer drained would block on its next write.
        with self._output_lock, contextlib.suppress(OSError, ValueError):
            self._output.write(f"{prefix} {line}\n")
            self._output.flush()


def _wants_colour(stream: TextIO) -> bool:
    # https://no-color.org: any non-empty NO_COLOR turns colours off.
    return stream.isatty() and not os.environ.get("NO_COLOR")


# ---------------------------------------------------------------------- readiness


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    """Block until a TCP connection to ``host:port`` succeeds; TimeoutError otherwise."""

    def accepts() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            return False

    _poll(f"{host}:{port}", timeout, accepts)


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    """Block until ``url`` answers with a status below 500; TimeoutError otherwise."""

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code < 500
        except httpx.HTTPError:
            return False

    _poll(url, timeout, answers)


def _poll(what: str, timeout: float, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} is not ready after {timeout:g} s")
        time.sleep(_POLL_SECONDS)
