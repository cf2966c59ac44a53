"""Which network connections a command makes, from `strace -f -e trace=connect` (Debian's
`strace`, which `make test` installs): every connect() of the command and of the processes
it starts, whether or not it succeeds. Loopback and local sockets are fine; anything else
is a connection outside the machine."""

from __future__ import annotations

import ipaddress
import re
import shutil
from pathlib import Path

# AF_UNIX is a local socket; AF_UNSPEC dissolves a UDP socket's association; AF_NETLINK
# talks to the kernel. None of them leaves the machine.
LOCAL_FAMILIES = {"AF_UNIX", "AF_UNSPEC", "AF_NETLINK"}

_FAMILY = re.compile(r"connect\(\d+, \{sa_family=(\w+)")
_INET_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)')
_INET6_ADDRESS = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')


def strace_prefix(trace_file: Path) -> list[str]:
    """The words that run a command under strace, tracing connect() in it and every child.
    `--seccomp-bpf` stops the traced processes only at connect(), not at every system call:
    an `oasis run` of a small demo takes a few seconds longer, not minutes."""
    strace = shutil.which("strace")
    if strace is None:
        raise RuntimeError("strace is missing: install it with `apt-get install strace`")
    return [
        strace,
        "--follow-forks",
        "--seccomp-bpf",
        "--quiet=all",
        "--trace=connect",
        "--signal=none",
        f"--output={trace_file}",
        "--",
    ]


def connections_outside_loopback(trace: str) -> list[str]:
    """The connect() lines of `trace` to an address outside 127.0.0.0/8 and ::1, and those
    of a socket family this module does not know (it cannot tell where they go)."""
    outside = []
    for line in trace.splitlines():
        family = _FAMILY.search(line)
        if family is None or family.group(1) in LOCAL_FAMILIES:
            continue
        pattern = {"AF_INET": _INET_ADDRESS, "AF_INET6": _INET6_ADDRESS}.get(family.group(1))
        address = pattern.search(line) if pattern else None
        if address is None or not _is_loopback(address.group(1)):
            outside.append(line.strip())
    return outside


def _is_loopback(text: str) -> bool:
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback
