"""Command line: run the Kaltura API emulator in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from dev.kaltura_emulator import seed
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
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    app = EmulatorApp(
        args.data_dir,
        args.partner_id,
        args.admin_secret,
        args.user_secret or "",
        defaults={"conversion_seconds": args.conversion_seconds},
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
