"""Typed condition values shared by both engines: numbers, dates, booleans, IP networks.

Each parser returns None for a value that is not of its type: such a policy value never matches, and a
request value that does not parse makes the operator false, negated or not (as iam-simulate does).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from fractions import Fraction

__all__ = ["IpNet", "parse_bool", "parse_date", "parse_ip", "parse_network", "parse_number"]

IpNet = ipaddress.IPv4Network | ipaddress.IPv6Network
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_number(text: str) -> Fraction | None:
    """Exact rational value of a decimal number (Fractions keep Z3's Real comparisons exact)."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    return Fraction(text)


def parse_date(text: str) -> Fraction | None:
    """Epoch seconds of an ISO 8601 date/time (UTC when no zone) or of an epoch number."""
    number = parse_number(text)
    if number is not None:
        return number
    candidate = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return Fraction(delta.days * 86400 + delta.seconds) + Fraction(delta.microseconds, 1_000_000)


def parse_bool(text: str) -> bool | None:
    lowered = text.lower()
    return True if lowered == "true" else False if lowered == "false" else None


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def parse_network(text: str) -> IpNet | None:
    """A CIDR block (a bare address is a /32 or /128); host bits set are allowed, as AWS allows them."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
