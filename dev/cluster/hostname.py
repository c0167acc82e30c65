"""The task hostname of a local cluster worker: both workers share one host, so each names itself."""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    """`KALTURA_CLUSTER_HOSTNAME` when the launcher set it for this worker, else the machine's name."""
    return os.environ.get("KALTURA_CLUSTER_HOSTNAME") or socket.getfqdn()
