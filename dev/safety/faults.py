"""The fault plan of the safety scenario: about 10% of calls fail, at the emulator and at S3.

Emulator (per matching call): ACTION_BLOCKED and internal errors on API calls, dropped and
truncated downloads, a little latency; plus short-lived KSs (expiry) and slow conversions as
settings. S3 (through dev/s3_server's layer): 500 InternalError, 503 SlowDown, connections
dropped mid-request and mid-response. `FaultPlan.injected()` counts what fired, by kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dev.kaltura_emulator.control import EmulatorControl
from dev.s3_server import S3DevControl

KS_EXPIRY_KIND = "kaltura short-lived KS issued ({seconds} s)"


@dataclass(frozen=True)
class KalturaFault:
    """One emulator fault rule and the name it is counted under."""

    kind: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class S3Fault:
    """One S3 layer fault rule and the name it is counted under."""

    kind: str
    spec: dict[str, Any]


def kaltura_faults(rate: float, seed: int) -> list[KalturaFault]:
    """API and download faults adding up to about `rate` of the calls of each route.

    Each download fault also fires once for sure early on, so a small run sees every kind.
    """
    api = rate / 2
    download = rate / 2
    return [
        KalturaFault("kaltura ACTION_BLOCKED", {"code": "ACTION_BLOCKED", "probability": api, "seed": seed}),
        KalturaFault(
            "kaltura internal error", {"code": "INTERNAL_SERVERL_ERROR", "probability": api, "seed": seed + 1}
        ),
        KalturaFault(
            "kaltura dropped download",
            {"service": "download", "drop_mid_download": True, "probability": download, "seed": seed + 2},
        ),
        KalturaFault(
            "kaltura truncated download",
            {"service": "download", "truncate": True, "probability": download, "seed": seed + 3},
        ),
        KalturaFault(
            "kaltura dropped download",
            {"service": "download", "drop_mid_download": True, "every_nth": 2, "max_fires": 1},
        ),
        KalturaFault(
            "kaltura truncated download",
            {"service": "download", "truncate": True, "every_nth": 3, "max_fires": 1},
        ),
        KalturaFault(
            "kaltura slow call (300 ms)", {"latency_ms": 300, "probability": rate / 4, "seed": seed + 4}
        ),
    ]


def s3_faults(rate: float, bucket: str) -> list[S3Fault]:
    """S3 faults on the archive bucket adding up to about `rate` of its calls (each kind once for sure)."""
    kinds = [
        ("s3 500 InternalError", {"kind": "error500"}, 0.4),
        ("s3 503 SlowDown", {"kind": "slowdown503"}, 0.2),
        ("s3 dropped request", {"kind": "drop"}, 0.2),
        ("s3 dropped response", {"kind": "drop", "phase": "response"}, 0.2),
    ]
    rules = []
    for number, (kind, spec, share) in enumerate(kinds):
        rules.append(S3Fault(kind, {**spec, "every_nth": 5 + number, "max_hits": 1, "bucket": bucket}))
        rules.append(S3Fault(kind, {**spec, "probability": rate * share, "bucket": bucket}))
    return rules


class FaultPlan:
    """Installs and removes the scenario's faults and keeps the count of what fired, by kind."""

    def __init__(
        self,
        kaltura: EmulatorControl,
        s3: S3DevControl,
        bucket: str,
        rate: float = 0.10,
        seed: int = 7,
        ks_expiry_seconds: int = 4,
        conversion_seconds: float = 3.0,
    ) -> None:
        self.kaltura = kaltura
        self.s3 = s3
        self.bucket = bucket
        self.rate = rate
        self.seed = seed
        self.ks_expiry_seconds = ks_expiry_seconds
        self.conversion_seconds = conversion_seconds
        self.counts: dict[str, int] = {}
        self._kaltura_rules: list[KalturaFault] = []
        self._s3_rules: list[tuple[S3Fault, int]] = []
        self._active = False
        self._sessions_before = 0

    def install(self) -> None:
        """Switch every fault on (emulator rules, S3 rules, short KSs, slow conversions)."""
        self.seed += 100
        self._sessions_before = self.kaltura.calls().get("session.start", 0)
        self._kaltura_rules = kaltura_faults(self.rate, self.seed)
        for rule in self._kaltura_rules:
            self.kaltura.add_fault(**rule.spec)
        self._s3_rules = [
            (rule, self.s3.add_fault(**rule.spec)) for rule in s3_faults(self.rate, self.bucket)
        ]
        self.kaltura.set_ks_expiry(self.ks_expiry_seconds)
        self.kaltura.set_conversion_seconds(self.conversion_seconds)
        self._active = True

    def remove(self) -> None:
        """Collect the counts of the installed rules, then switch every fault off."""
        if not self._active:
            return
        fired = self.kaltura.faults()
        for rule, state in zip(self._kaltura_rules, fired, strict=False):
            self._add(rule.kind, int(state.get("fired") or 0))
        hits = {int(f["id"]): int(f.get("hits") or 0) for f in self.s3.faults()}
        for s3_rule, fault_id in self._s3_rules:
            self._add(s3_rule.kind, hits.get(fault_id, 0))
        sessions = self.kaltura.calls().get("session.start", 0)
        self._add(KS_EXPIRY_KIND.format(seconds=self.ks_expiry_seconds), sessions - self._sessions_before)
        self.kaltura.clear_faults()
        for _rule, fault_id in self._s3_rules:
            self.s3.remove_fault(fault_id)
        self.kaltura.set_ks_expiry(None)
        self.kaltura.set_conversion_seconds(1.0)
        self._active = False

    def __enter__(self) -> FaultPlan:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _add(self, kind: str, count: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + max(0, count)

    def injected(self) -> dict[str, int]:
        """Faults fired so far, by kind (sessions started under short KS expiry count as expiries)."""
        return dict(sorted(self.counts.items()))
