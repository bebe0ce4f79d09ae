"""Who can reach the app: whether it listens beyond this machine, and whether anyone must sign in first."""

from __future__ import annotations

import ipaddress


def reachable_from_other_machines(address: str | None) -> bool:
    """Whether a server bound to `address` accepts connections from elsewhere (unset = every interface)."""
    if not address or address in ("0.0.0.0", "::", "*"):
        return True
    if address.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return True  # a host name of this machine as the network knows it


def api_address(host: str, keys_configured: bool) -> tuple[str, str]:
    """Where the HTTP API may listen, and what to say about it at start: without keys, this machine only."""
    if keys_configured:
        return host, "API keys are required (API_KEYS, API_READ_KEYS)."
    if reachable_from_other_machines(host):
        return "127.0.0.1", (f"No API_KEYS are set, so the API listens on 127.0.0.1 only (not {host}): set API_KEYS "
                             "to serve other machines.")
    return host, "No API_KEYS are set: the API answers anyone on this machine, and nobody else."


def exposure_warning(address: str | None, sign_in_required: bool) -> str | None:
    """What to tell the person using the app when anyone on the network could use it too, else None."""
    if sign_in_required or not reachable_from_other_machines(address):
        return None
    where = f"address {address}" if address else "every network interface"
    return (f"This app listens on {where} and asks no one to sign in: anyone who can reach this machine can "
            "add, reprocess and delete videos and make it fetch links. Put it behind a reverse proxy with "
            "sign-in, or configure Streamlit's login ([auth] in .streamlit/secrets.toml); see the README.")
