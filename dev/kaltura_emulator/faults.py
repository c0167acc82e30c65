"""Fault injection, per-action call counts and Kaltura-style rate limiting (ACTION_BLOCKED)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """One injected fault on calls matching service/action ("*" matches any).

    It fires on every matching call, or every Nth one (every_nth), or with a probability, at most
    max_fires times. When it fires: latency_ms delays the response; code makes the call fail with that
    Kaltura error (for downloads: HTTP 503); drop_mid_download sends part of the body then drops the
    connection; truncate sends a complete HTTP response whose body is cut short.
    """

    service: str = "*"
    action: str = "*"
    code: str | None = None
    probability: float | None = None
    every_nth: int | None = None
    latency_ms: int = 0
    drop_mid_download: bool = False
    truncate: bool = False
    max_fires: int | None = None
    seed: int = 0
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, service: str, action: str) -> bool:
        """Whether this fault targets the call."""
        return self.service.lower() in ("*", service.lower()) and self.action.lower() in ("*", action.lower())

    def fires(self) -> bool:
        """Count a matching call and decide whether the fault fires on it."""
        self.seen += 1
        if self.max_fires is not None and self.fired >= self.max_fires:
            return False
        if self.every_nth:
            fire = self.seen % self.every_nth == 0
        elif self.probability is not None:
            fire = self.rng.random() < self.probability
        else:
            fire = True
        if fire:
            self.fired += 1
        return fire

    def describe(self) -> dict[str, Any]:
        """JSON view of the fault."""
        return {
            "service": self.service,
            "action": self.action,
            "code": self.code,
            "probability": self.probability,
            "every_nth": self.every_nth,
            "latency_ms": self.latency_ms,
            "drop_mid_download": self.drop_mid_download,
            "truncate": self.truncate,
            "max_fires": self.max_fires,
            "seen": self.seen,
            "fired": self.fired,
        }


@dataclass
class Outcome:
    """The combined effect of the faults that fired on one call."""

    latency_ms: int = 0
    code: str | None = None
    drop: bool = False
    truncate: bool = False


class Faults:
    """Registry of faults, call counters and the rate limiter (thread safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.rate_limit: dict[str, Any] | None = None
        self.window: deque[float] = deque()

    def add(self, spec: dict[str, Any]) -> Fault:
        """Register a fault from its JSON description."""
        allowed = {
            "service",
            "action",
            "code",
            "probability",
            "every_nth",
            "latency_ms",
            "drop_mid_download",
            "truncate",
            "max_fires",
            "seed",
        }
        fault = Fault(**{key: value for key, value in spec.items() if key in allowed and value is not None})
        fault.rng = random.Random(fault.seed)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self.lock:
            self.faults.clear()

    def reset(self) -> None:
        """Remove faults, counters and the rate limit."""
        with self.lock:
            self.faults.clear()
            self.calls.clear()
            self.rate_limit = None
            self.window.clear()

    def set_rate_limit(self, limit: dict[str, Any] | None) -> None:
        """Allow at most max_calls matching calls per window_seconds (None: unlimited)."""
        with self.lock:
            self.rate_limit = limit
            self.window.clear()

    def record(self, service: str, action: str) -> tuple[Outcome, bool]:
        """Count a call; return the fault outcome and whether the rate limit blocks it."""
        key = f"{service.lower()}.{action}"
        outcome = Outcome()
        with self.lock:
            self.calls[key] += 1
            blocked = self._rate_limited(service, action)
            for fault in self.faults:
                if fault.matches(service, action) and fault.fires():
                    outcome.latency_ms += fault.latency_ms
                    outcome.code = fault.code or outcome.code
                    outcome.drop = outcome.drop or fault.drop_mid_download
                    outcome.truncate = outcome.truncate or fault.truncate
        return outcome, blocked

    def _rate_limited(self, service: str, action: str) -> bool:
        """Sliding-window check of the rate limit (blocked calls do not use up the window)."""
        limit = self.rate_limit
        if not limit or service.lower() == "download":
            return False
        if str(limit.get("service", "*")).lower() not in ("*", service.lower()):
            return False
        if str(limit.get("action", "*")).lower() not in ("*", action.lower()):
            return False
        now = time.monotonic()
        window = float(limit.get("window_seconds", 1.0))
        while self.window and self.window[0] <= now - window:
            self.window.popleft()
        if len(self.window) >= int(limit.get("max_calls", 0)):
            return True
        self.window.append(now)
        return False

    def snapshot(self) -> dict[str, int]:
        """Per service.action call counts."""
        with self.lock:
            return dict(self.calls)
