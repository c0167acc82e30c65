"""Kaltura API access: admin session handling, retries with backoff, call counting, bulk reads.

Every remote call goes through `KalturaApi.call`, which supplies a valid admin KS (started lazily,
renewed before expiry and once on INVALID_KS), retries transient failures (ACTION_BLOCKED, 5xx,
network) with exponential backoff and jitter, never retries permanent errors and counts the call.
The admin secret and the KS never reach a log or an exception message: the KalturaClient is built
without a logger (it would log request JSON containing the KS) and error texts are scrubbed.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaClientException, KalturaException
from KalturaClient.Plugins.Core import KalturaFilterPager, KalturaFlavorAssetFilter, KalturaSessionType

from kaltura_archiver.kaltura_lists import list_call
from kaltura_archiver.kaltura_rules import MAX_IN_VALUES, MAX_PAGE_SIZE
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.records import EntryRecord, FlavorRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")

SOURCE_FLAVOR_PARAMS_ID = 0
SESSION_ERROR_CODES = frozenset({"INVALID_KS", "EXPIRED_KS", "KS_EXPIRED", "INVALID_KS_EXPIRED"})
RETRYABLE_SERVER_CODES = frozenset(
    {
        "ACTION_BLOCKED",
        "INTERNAL_SERVERERROR",
        "INTERNAL_SERVERL_ERROR",
        "INTERNAL_SERVER_ERROR",
        "SERVICE_UNAVAILABLE",
        "TOO_MANY_REQUESTS",
        "LOCK_TIMED_OUT",
        "HTTP_5XX",
    }
)
RETRYABLE_CLIENT_CODES = frozenset(
    {
        KalturaClientException.ERROR_INVALID_XML,
        KalturaClientException.ERROR_CONNECTION_FAILED,
        KalturaClientException.ERROR_READ_FAILED,
        KalturaClientException.ERROR_RESULT_NOT_FOUND,
        KalturaClientException.ERROR_READ_TIMEOUT,
        KalturaClientException.ERROR_READ_GZIP_FAILED,
    }
)
MULTIREQUEST_SIZE = 50
"""Calls per multirequest (Kaltura sets no limit; kept small so one failure costs little)."""
NOT_FOUND_CODES = frozenset({"ENTRY_ID_NOT_FOUND", "INVALID_ENTRY_ID"})
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/_\-]{60,}={0,2}")


class CompleteResponseClient(KalturaClient):  # type: ignore[misc]
    """A KalturaClient that refuses a response body cut short.

    KalturaClient parses with lxml's ``recover=True``, which turns half a document into a partial,
    error-free result (a list page silently missing entries); every Kaltura response ends with
    ``</xml>``, so a body without it is a transient transport error and is retried.
    """

    def parsePostResult(self, postResult: bytes) -> Any:  # noqa: N802, N803 - KalturaClient's names
        """Check the document is complete, then parse it as KalturaClient does."""
        if not bytes(postResult).rstrip().endswith(b"</xml>"):
            raise KalturaClientException(
                "incomplete response (the XML document is cut short)",
                KalturaClientException.ERROR_INVALID_XML,
            )
        return super().parsePostResult(postResult)


@dataclass(frozen=True, kw_only=True)
class KalturaConnectionSettings:
    """How to reach Kaltura and start an admin session; built by the Airflow hook from the connection."""

    service_url: str = "https://www.kaltura.com"
    partner_id: int
    user_id: str = ""
    admin_secret: str = field(repr=False)
    session_expiry: int = 86400
    privileges: str = "disableentitlement"
    request_timeout: int = 120

    def __post_init__(self) -> None:
        problems = []
        if not re.match(r"^https?://[^\s/]+", self.service_url or ""):
            problems.append(f"service_url {self.service_url!r} must be an http(s) URL")
        if not isinstance(self.partner_id, int) or self.partner_id <= 0:
            problems.append(f"partner_id must be a positive integer, got {self.partner_id!r}")
        if not self.admin_secret:
            problems.append("admin_secret is empty")
        if self.session_expiry < 60:
            problems.append(f"session_expiry must be at least 60 seconds, got {self.session_expiry}")
        if self.request_timeout <= 0:
            problems.append(f"request_timeout must be positive, got {self.request_timeout}")
        if problems:
            raise ValueError("invalid Kaltura connection: " + "; ".join(problems))


class KalturaApiError(Exception):
    """A Kaltura call failed; ``code`` is Kaltura's error code (or a client/network code)."""

    def __init__(self, message: str, code: str, retryable: bool, label: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.label = label

    @property
    def is_session_error(self) -> bool:
        """True when the KS was rejected (invalid or expired)."""
        return self.code in SESSION_ERROR_CODES

    def __str__(self) -> str:
        where = f"{self.label}: " if self.label else ""
        return f"{where}{self.message} [{self.code}]"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits between half and all of min(cap, base*2**(n-1))."""

    max_attempts: int = 6
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return ceiling / 2 + rng() * ceiling / 2


class KalturaApi:
    """Thread-safe access to one Kaltura partner with an admin KS; see the module docstring."""

    def __init__(
        self,
        settings: KalturaConnectionSettings,
        counter: CallCounter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        log: logging.Logger = logger,
        clock: Callable[[], float] = time.time,
        secret_sink: Callable[[str], None] | None = None,
    ) -> None:
        """``secret_sink`` (e.g. Airflow's ``mask_secret``) receives the admin secret and every new KS."""
        self.settings = settings
        self._secret_sink = secret_sink
        if secret_sink is not None:
            secret_sink(settings.admin_secret)
        self.counter = counter if counter is not None else CallCounter()
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.log = log
        self._clock = clock
        self._lock = threading.Lock()
        self._local = threading.local()
        self._ks: str | None = None
        self._ks_expires_at = 0.0
        self._ks_renew_at = 0.0
        self._session_generation = 0
        self._known_secrets: list[str] = [settings.admin_secret]

    def __repr__(self) -> str:
        return f"KalturaApi(service_url={self.settings.service_url!r}, partner_id={self.settings.partner_id})"

    # -- session -----------------------------------------------------------------------------------

    def _new_client(self) -> KalturaClient:
        """A KalturaClient without a logger (so no request JSON, and no KS, is ever logged)."""
        config = KalturaConfiguration(self.settings.service_url)
        config.requestTimeout = self.settings.request_timeout
        return CompleteResponseClient(config)

    def _thread_client(self) -> KalturaClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            self._local.client = client
        return client

    def _start_session(self) -> None:
        """Start a new admin session (one session.start call); caller holds the lock."""
        client = self._new_client()
        s = self.settings
        self.counter.add("session.start")
        ks = client.session.start(
            s.admin_secret, s.user_id, KalturaSessionType.ADMIN, s.partner_id, s.session_expiry, s.privileges
        )
        ks = ks if isinstance(ks, str) else ks.decode()
        now = self._clock()
        if self._secret_sink is not None:
            self._secret_sink(ks)
        self._ks = ks
        self._known_secrets.append(ks)
        del self._known_secrets[1:-4]
        self._ks_expires_at = now + s.session_expiry
        self._ks_renew_at = now + s.session_expiry - min(600.0, s.session_expiry * 0.1)
        self._session_generation += 1
        self.log.info(
            "Kaltura admin session started for partner %s (expires %s)",
            s.partner_id,
            datetime.fromtimestamp(self._ks_expires_at, tz=UTC).isoformat(timespec="seconds"),
        )

    def _session(self) -> tuple[str, int]:
        """The current KS and its generation, starting or renewing the session when due."""
        with self._lock:
            if self._ks is None or self._clock() >= self._ks_renew_at:
                self._start_session()
            assert self._ks is not None
            return self._ks, self._session_generation

    def _invalidate(self, generation: int) -> None:
        """Drop the session of ``generation`` (unless another thread already renewed it)."""
        with self._lock:
            if self._session_generation == generation:
                self._ks = None

    def session_info(self) -> dict[str, Any]:
        """Partner, user, privileges and session expiry; starts a session (which checks the secret); no KS."""
        self._run("session.start", lambda _client: None, count=False)
        return {
            "service_url": self.settings.service_url,
            "partner_id": self.settings.partner_id,
            "user_id": self.settings.user_id,
            "session_type": "ADMIN",
            "privileges": self.settings.privileges,
            "expires_at": datetime.fromtimestamp(self._ks_expires_at, tz=UTC).isoformat(timespec="seconds"),
        }

    # -- calls ---------------------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """``text`` with the admin secret, any KS issued here and KS-like tokens replaced by ``***``."""
        for secret in self._known_secrets:
            if secret:
                text = text.replace(secret, "***")
        return _LONG_TOKEN.sub("***", text)

    def _classify(self, exc: BaseException, label: str) -> KalturaApiError:
        """Map any failure to a KalturaApiError with a scrubbed message and a retryable flag."""
        if isinstance(exc, KalturaApiError):
            return exc
        if isinstance(exc, KalturaException):
            code = str(exc.code)
            retryable = code in RETRYABLE_SERVER_CODES or code.startswith("HTTP_5")
            return KalturaApiError(self.scrub(str(exc.message)), code, retryable, label)
        if isinstance(exc, KalturaClientException):
            retryable = exc.code in RETRYABLE_CLIENT_CODES
            return KalturaApiError(self.scrub(str(exc.message)), f"CLIENT_{exc.code}", retryable, label)
        if isinstance(exc, (OSError, TimeoutError)) or type(exc).__module__.startswith(
            ("requests", "urllib3")
        ):
            return KalturaApiError(self.scrub(f"{type(exc).__name__}: {exc}"), "NETWORK", True, label)
        return KalturaApiError(self.scrub(f"{type(exc).__name__}: {exc}"), "UNEXPECTED", False, label)

    def call(self, label: str, fn: Callable[[KalturaClient], T]) -> T:
        """Run ``fn(client)`` (one request) with a valid admin KS, retrying transient errors; count it."""
        return self._run(label, fn, count=True)

    def _run(self, label: str, fn: Callable[[KalturaClient], T], count: bool) -> T:
        """`call` with optional counting (session checks make no request of their own)."""
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            generation = -1
            try:
                ks, generation = self._session()
                client = self._thread_client()
                client.setKs(ks)
                if count:
                    self.counter.add(label)
                return fn(client)
            except Exception as exc:  # noqa: BLE001 - every failure is classified below
                self._local.client = None
                err = self._classify(exc, label)
            if err.is_session_error and not renewed:
                renewed = True
                self.log.info("%s: Kaltura session rejected (%s); starting a new session", label, err.code)
                self._invalidate(generation)
                attempt -= 1
                continue
            if not err.retryable or attempt >= self.retry.max_attempts:
                raise err
            delay = self.retry.delay(attempt)
            self.log.warning(
                "%s: transient Kaltura error %s (attempt %d/%d), retrying in %.2fs",
                label,
                err.code,
                attempt,
                self.retry.max_attempts,
                delay,
            )
            self._sleep(delay)

    # -- reads ---------------------------------------------------------------------------------------

    def get_entry(self, entry_id: str) -> EntryRecord | None:
        """The entry (media.get), or None when Kaltura does not know the id."""
        try:
            obj = self.call("media.get", lambda c: c.media.get(entry_id))
        except KalturaApiError as err:
            if err.code in NOT_FOUND_CODES:
                return None
            raise
        return EntryRecord.from_kaltura(obj)

    def get_entries(self, entry_ids: Sequence[str]) -> dict[str, EntryRecord]:
        """Live entries (media.get), ``MULTIREQUEST_SIZE`` per call; ids Kaltura does not know are left out.

        media.get reads the entry itself, so it may show plays that list filters see only after
        Kaltura's daily plays sync (`kaltura_rules.PLAYS_SYNC_LAG_SECONDS`).
        """
        out: dict[str, EntryRecord] = {}
        ids = list(dict.fromkeys(entry_ids))
        for start in range(0, len(ids), MULTIREQUEST_SIZE):
            chunk = ids[start : start + MULTIREQUEST_SIZE]
            results: Any = self.call("media.get", _multi_get_call(chunk))
            for entry_id, obj in zip(chunk, results, strict=False):
                if isinstance(obj, KalturaException):
                    if str(obj.code) in NOT_FOUND_CODES:
                        continue
                    raise self._classify(obj, "media.get")
                out[entry_id] = EntryRecord.from_kaltura(obj)
        return out

    def list_flavors(
        self, entry_ids: Sequence[str], originals_only: bool = False
    ) -> dict[str, list[FlavorRecord]]:
        """Flavors of every given entry: one flavorAsset.list per <=500 ids (split when >500 flavors).

        Deleted flavors are left out (Kaltura's default). ``originals_only`` asks only for source
        flavors (flavorParamsId 0), so a page of 500 entries costs one call instead of one per flavor set.
        """
        ids = list(dict.fromkeys(entry_ids))
        result: dict[str, list[FlavorRecord]] = {entry_id: [] for entry_id in ids}
        for start in range(0, len(ids), MAX_IN_VALUES):
            for flavor in self._flavors_of(ids[start : start + MAX_IN_VALUES], originals_only):
                if originals_only and not flavor.is_original:
                    continue
                result.setdefault(flavor.entry_id, []).append(flavor)
        return result

    def _flavors_of(self, ids: list[str], originals_only: bool) -> list[FlavorRecord]:
        """All flavors of <=500 entries, each call's matches on one page: the id list is split while
        they do not fit, because Kaltura's order among equal keys may change between page requests."""
        out: list[FlavorRecord] = []
        seen: set[str] = set()
        page = 1
        while True:
            flt = KalturaFlavorAssetFilter(entryIdIn=",".join(ids))
            if originals_only:
                flt.flavorParamsIdEqual = SOURCE_FLAVOR_PARAMS_ID
            pager = KalturaFilterPager(pageSize=MAX_PAGE_SIZE, pageIndex=page)
            response: Any = self.call("flavorAsset.list", _flavor_list_call(flt, pager))
            total = response.totalCount if isinstance(response.totalCount, int) else 0
            if total > MAX_PAGE_SIZE and len(ids) > 1:
                half = len(ids) // 2
                return self._flavors_of(ids[:half], originals_only) + self._flavors_of(
                    ids[half:], originals_only
                )
            objects = response.objects if isinstance(response.objects, list) else []
            for obj in objects:
                flavor = FlavorRecord.from_kaltura(obj)
                if flavor.flavor_id not in seen:
                    seen.add(flavor.flavor_id)
                    out.append(flavor)
            if len(objects) < MAX_PAGE_SIZE or len(seen) >= total:
                return out
            page += 1


def _multi_get_call(entry_ids: list[str]) -> Callable[[KalturaClient], Any]:
    """A `KalturaApi.call` function getting several entries in one multirequest."""

    def run(client: KalturaClient) -> Any:
        client.startMultiRequest()
        for entry_id in entry_ids:
            client.media.get(entry_id)
        return list(client.doMultiRequest())

    return run


def _flavor_list_call(
    flt: KalturaFlavorAssetFilter, pager: KalturaFilterPager
) -> Callable[[KalturaClient], Any]:
    """A `KalturaApi.call` function listing flavors with this filter and pager (items read lean,
    `kaltura_lists`)."""
    return list_call(
        "flavorasset",
        "list",
        "KalturaFlavorAssetListResponse",
        FlavorRecord.KALTURA_FIELDS,
        filter=flt,
        pager=pager,
    )
