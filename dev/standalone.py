"""`make standalone`: the local stack plus `airflow standalone` on http://localhost:8080 to click through.

Connections, variables and pools from airflow_settings.yaml are written into the metadata DB so the
UI lists them; `[core] test_connection` is enabled so the connection form's Test button works.
Stop with Ctrl-C.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from dev.airflow_settings import import_into_metadata_db
from dev.local_airflow import PROJECT_ROOT
from dev.stack import LocalStack, demo_account

ROOT = PROJECT_ROOT / ".stack" / "standalone"


def main() -> int:
    stack = LocalStack(root=ROOT, glacier_restore_seconds=60.0, conversion_seconds=5.0).start()
    try:
        seeded = ROOT / ".seeded"
        if not seeded.exists():
            stack.kaltura_control.create_entries(demo_account(300, 11, time.time()))
            seeded.touch()
        home = ROOT / "airflow_home"
        env = stack.airflow_env(home)
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        subprocess.run([f"{bin_dir}/airflow", "db", "migrate"], env=env, capture_output=True, check=True)
        import_into_metadata_db(env)
        print(
            f"Kaltura emulator {stack.kaltura.url if stack.kaltura else ''}, "
            f"S3 {stack.s3.endpoint_url if stack.s3 else ''}; reports in {ROOT / 'reports'}"
        )
        passwords = home / "simple_auth_manager_passwords.json.generated"
        print(f"Airflow UI on http://localhost:8080 (user admin, password in {passwords})")
        print("DAGs start paused: unpause one, or trigger it from its page. Ctrl-C stops everything.")
        with subprocess.Popen([f"{bin_dir}/airflow", "standalone"], env=env) as proc:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                proc.terminate()
                return proc.wait()
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
