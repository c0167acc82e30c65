"""Command line: run the Kaltura API emulator in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from dev.kaltura_emulator import seed, store
from dev.kaltura_emulator.server import EmulatorApp, EmulatorServer


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, optionally seed an empty data dir, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m dev.kaltura_emulator", description=__doc__)
    parser.add_argument("--data-dir", required=True, help="directory for the SQLite state and content files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--partner-id", type=int, default=1234)
    parser.add_argument(
        "--admin-secret",
        default=os.environ.get("KALTURA_EMULATOR_ADMIN_SECRET", "emulator-admin-secret"),
        help="admin secret (default: $KALTURA_EMULATOR_ADMIN_SECRET or a fixed dev value)",
    )
    parser.add_argument("--user-secret", default=None)
    parser.add_argument(
        "--seed-entries", type=int, default=0, help="seed N entries when the account is empty"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for --seed-entries")
    parser.add_argument("--conversion-seconds", type=float, default=5.0)
    parser.add_argument(
        "--conversion-profile",
        choices=store.CONVERSION_PROFILES,
        default="default",
        help="none: addContent leaves entries PENDING without converting",
    )
    parser.add_argument(
        "--no-relative-time",
        action="store_true",
        help="time filters are absolute even within 10 years of 0 (disable_relative_time_partners)",
    )
    parser.add_argument(
        "--no-file-type-restriction",
        action="store_true",
        help="accept uploads of any content type and extension",
    )
    parser.add_argument(
        "--file-extensions",
        default=None,
        help="comma separated upload extension whitelist ('' disables the extension check)",
    )
    parser.add_argument(
        "--final-chunk-seconds",
        type=float,
        default=0.0,
        help="time the final chunk of a resumed upload takes (server-side concatenation)",
    )
    parser.add_argument(
        "--read-lag-seconds",
        type=float,
        default=0.0,
        help="list actions and eSearch show writes only this many seconds later (0: off)",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    defaults = {
        "conversion_seconds": args.conversion_seconds,
        "conversion_profile": args.conversion_profile,
        "relative_time": not args.no_relative_time,
        "file_type_restriction": not args.no_file_type_restriction,
        "final_chunk_seconds": args.final_chunk_seconds,
        "read_lag_seconds": args.read_lag_seconds,
    }
    if args.file_extensions is not None:
        extensions = [e.strip() for e in args.file_extensions.split(",") if e.strip()]
        defaults["file_extensions_whitelist"] = extensions or None
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    app = EmulatorApp(
        args.data_dir,
        args.partner_id,
        args.admin_secret,
        args.user_secret or "",
        defaults={key: store.check_setting(key, value) for key, value in defaults.items()},
    )
    if args.seed_entries:
        count = app.db.conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        if count == 0:
            app.db.create_entries(seed.generate_account(args.seed_entries, args.seed))
    server = EmulatorServer(app, args.host, args.port)
    print(f"Kaltura emulator for partner {args.partner_id} at {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
