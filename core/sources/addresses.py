"""Which hosts the app may connect to on behalf of a link: public addresses, plus the private ones the
settings allow. Checked twice: on the link's own host when it is pasted (no DNS lookup there, so pasting
stays instant and offline), and on every address a host name resolves to whenever the job's download
process connects anywhere (`guard_connections`): redirects, embedded media, thumbnails, manifests and
fragments alike, and a DNS answer that changed since the link was pasted.
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from core.processes import start_clean_child, start_forkserver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})
CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number stands for ('10.0.0.1', '[::1]', '127.1', '2130706433'),
    read as the system's resolver reads it, without any lookup; None for a name."""
    text = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, UnicodeError, ValueError):
        return None


def non_public_kind(address: IPAddress) -> str | None:
    """'a loopback address', 'a private network address'... or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local (cloud metadata) address"
    if address.is_private or address.is_reserved or address.is_unspecified or address.is_multicast:
        return "a private network address"
    if address in CARRIER_GRADE_NAT:
        return "a private network address"
    return None


def _local_name(host: str) -> bool:
    return host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True)
class AddressPolicy:
    """Public hosts always; private ones only when named in ALLOWED_PRIVATE_HOSTS (or all of them with
    ALLOW_PRIVATE_URLS, for local testing)."""

    allow_all: bool = False
    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def build(cls, allow_all: bool, allowed: list[str]) -> AddressPolicy:
        names, networks = set(), []
        for entry in (e.strip() for e in allowed):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.rstrip(".").lower())
        return cls(allow_all, frozenset(names), tuple(networks))

    @classmethod
    def from_settings(cls, settings) -> AddressPolicy:
        return cls.build(settings.allow_private_urls, settings.allowed_private_hosts)

    def _allowed_exception(self, name: str, address: IPAddress | None) -> bool:
        if name in self.allowed_names:
            return True
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address.version == net.version and address in net for net in self.allowed_networks)

    def refusal(self, host: str, address: IPAddress | None = None) -> str | None:
        """Why connecting to `host` (at `address`, when known) is refused, for a person; None when allowed."""
        if self.allow_all:
            return None
        name = host.strip("[]").rstrip(".").lower()
        if self._allowed_exception(name, address):
            return None
        if _local_name(name):
            return f"'{host}' is a local or cloud-metadata address"
        kind = non_public_kind(address) if address is not None else None
        if not kind:
            return None
        if literal_address(host) == address:
            return f"{host} is {kind}"
        return f"{host} resolves to {address}, {kind}"

    def link_host_problem(self, host: str) -> str | None:
        """What is wrong with a pasted link's host, judged without any lookup (names are checked again,
        resolved, when the job connects)."""
        return self.refusal(host, literal_address(host))


@dataclass
class ConnectionGuard:
    """Refuses every resolution to a host the policy does not allow, and remembers what it refused."""

    policy: AddressPolicy
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, host, infos) -> None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            reason = self.policy.refusal(name, address)
            if reason:
                with self._lock:
                    self.refused.append(reason)
                raise socket.gaierror(socket.EAI_NONAME, f"refused by the address policy: {reason}")


def guard_connections(policy: AddressPolicy) -> ConnectionGuard:
    """From now on, in this process, every host name resolution (Python's socket.getaddrinfo, which every
    connection the download makes goes through) is checked against the policy. Meant for a process that
    does nothing but fetch media for one job: nothing else in it may reach a private host either."""
    guard = ConnectionGuard(policy)
    resolve = socket.getaddrinfo

    def checked_getaddrinfo(host, *args, **kwargs):
        infos = resolve(host, *args, **kwargs)
        if host is not None:
            guard.check(host, infos)
        return infos

    socket.getaddrinfo = checked_getaddrinfo
    return guard


class RefusedConnection(Exception):
    """Work in a guarded process tried to reach a host the policy refuses; the message says which."""


class ProcessEnded(Exception):
    """A guarded process ended without an answer (killed, or crashed)."""


#: What the process that starts guarded children imports once, so that each starts with it (webhooks: their
#: deliveries run in guarded children too).
GUARDED_PRELOAD = ["core.sources.preload", "core.jobs.webhooks"]


def prepare_guarded_processes() -> None:
    """Start, now, the process that guarded children start from (see core.processes.start_clean_child): it loads
    yt-dlp while this process goes on. A worker calls this before it forks its first job, so that every job's
    downloads come from the one server."""
    start_forkserver(GUARDED_PRELOAD)


def run_guarded(policy: AddressPolicy, work: Callable, args: tuple = (), on_report: Callable | None = None):
    """`work(report, *args)` in a child process that does nothing else, with every connection it makes checked
    by `guard_connections(policy)`; the child sees this process's working folder and environment. What it returns
    comes back; what it raises is raised here; each `report(*values)` calls `on_report(*values)` here, as it
    happens. If it tried to reach a refused host (even when it went on without that, as yt-dlp does with a
    thumbnail), RefusedConnection is raised."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = start_clean_child(_guarded_child, (sender, policy, work, args, os.getcwd(), dict(os.environ)),
                              GUARDED_PRELOAD)
    sender.close()
    try:
        while True:
            try:
                kind, *payload = receiver.recv()
            except EOFError:
                break
            if kind == "report":
                if on_report:
                    on_report(*payload)
            elif kind == "done":
                return payload[0]
            else:
                raise payload[0]
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    raise ProcessEnded(f"its process ended with {child.exitcode}")


def _guarded_child(sender, policy: AddressPolicy, work: Callable, args: tuple, cwd: str,
                   environment: dict[str, str]) -> None:
    _end_with_parent()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environment)
    guard = guard_connections(policy)
    try:
        outcome = ("done", work(lambda *values: sender.send(("report", *values)), *args))
    except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
        outcome = ("error", exc)
    if guard.refused:
        outcome = ("error", RefusedConnection(guard.refused[0]))
    try:
        sender.send(outcome)
    except Exception as exc:  # noqa: BLE001 - an exception that cannot be pickled
        sender.send(("error", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]} ({exc})")))
    sender.close()


def _end_with_parent() -> None:
    """Stop when the process that asked is gone (killed, timed out), instead of working for nobody."""
    parent = multiprocessing.parent_process()

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
