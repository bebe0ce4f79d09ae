"""Which hosts the app may connect to on behalf of a link: public addresses, plus the private ones the
settings allow. Checked twice: on the link's own host when it is pasted (no DNS lookup there, so pasting
stays instant and offline), and on every address a host name resolves to whenever the job's download
process connects anywhere (`guard_connections`): redirects, embedded media, thumbnails, manifests and
fragments alike, and a DNS answer that changed since the link was pasted.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass, field

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
