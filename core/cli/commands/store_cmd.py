"""`deskwatch store copy --from SQLITE_PATH --to URL`: move an installation from its SQLite file
to PostgreSQL, every table, verified by row counts and checksums (docs/store.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="store maintenance: copy a SQLite store into PostgreSQL", description=__doc__)
    ssub = p.add_subparsers(dest="store_action", metavar="ACTION", required=True)
    c = ssub.add_parser("copy", help="copy every table of a SQLite store into an empty PostgreSQL database, verified",
                        description=__doc__)
    c.add_argument("--from", dest="source", required=True, metavar="SQLITE_PATH", help="the SQLite store file (store.path)")
    c.add_argument("--to", dest="target", required=True, metavar="URL", help="postgresql://user@host:5432/db, empty")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=run)


def _progress(table: str, done: int, total: int) -> None:
    sys.stderr.write(f"\r\033[Kcopying {table}: {done:,}/{total:,} rows")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError
    from deskwatch.core.store import Store
    from deskwatch.core.store.copy import CopyError, copy_store
    from deskwatch.core.store.pg import redact_url

    source = Path(args.source).expanduser()
    if not source.is_file():
        raise UsageError(f"--from {source}: no such SQLite store; give the file store.path names")
    if not args.target.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"--to expects a postgresql:// URL such as postgresql://user@host:5432/deskwatch, got "
                         f"{redact_url(args.target) if '://' in args.target else 'a value without a scheme'}")
    with Store(source) as src, Store(url=args.target) as dst:
        tty = sys.stderr.isatty()
        try:
            tables = copy_store(src, dst, progress=_progress if tty else None)
        except CopyError as e:
            raise UsageError(str(e)) from None
        finally:
            if tty:
                sys.stderr.write("\r\033[K")
        if args.json:
            print(json.dumps({"from": str(source), "to": dst.where, "ok": all(t.ok for t in tables),
                              "tables": [t.to_dict() for t in tables]}, indent=2))
            return 0
        width = max(len(t.table) for t in tables)
        print(f"{'table':<{width}}  {'rows':>10}  checksum")
        for t in tables:
            print(f"{t.table:<{width}}  {t.target_rows:>10,}  {t.target_checksum}  {'ok' if t.ok else 'DIFFERS'}")
        rows = sum(t.target_rows for t in tables)
        print(f"copied {len(tables)} tables, {rows:,} rows from {source} to {dst.where}; counts and checksums match")
    return 0
