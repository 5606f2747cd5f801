"""Restore a database snapshot into DATA_DIR: `python -m bot.restore FILE`.

Stop the bot first. The snapshot is checked before anything changes: a damaged file, or one
written by a newer Anime8, is refused. The database it replaces is kept beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import DATABASE_FILE, ConfigError, load_data_dir
from bot.storage.backup import BackupError, restore
from bot.storage.lock import DataDirInUse, hold_data_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.restore", description=__doc__)
    parser.add_argument("snapshot", type=Path, help="a file from DATA_DIR/backups/")
    parser.add_argument(
        "--data-dir", type=Path, help="where to restore (default: DATA_DIR from the environment)"
    )
    args = parser.parse_args(argv)
    try:
        data_dir = args.data_dir or load_data_dir()
        with hold_data_dir(data_dir, exclusive=True):
            kept = restore(args.snapshot, data_dir / DATABASE_FILE)
    except (BackupError, ConfigError, DataDirInUse) as error:
        print(f"Nothing was restored: {error}", file=sys.stderr)
        return 1
    print(f"Restored {args.snapshot} into {data_dir / DATABASE_FILE}.")
    if kept is not None:
        print(f"The database it replaced is kept as {kept}.")
    print("Start the bot again; it refits its models from the restored data in the background.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
