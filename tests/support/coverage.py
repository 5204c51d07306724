"""How much of Open WebUI 0.12.4's API owui serves: each operation of the reference table
(`openwebui-0.12.4-operations.tsv`, service, group, method, path) against the operations of
the API document owui's gateway serves at `/openapi.json` (all five services merged). Paths
match with their parameters' names ignored (`/chats/{id}` is `/chats/{chat_id}`).

    .venv/bin/python -m tests.support.coverage http://127.0.0.1:8000 [--missing]
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass

import httpx

from tests.support.conformance import REFERENCE_DIR

# Team chat rooms: out of scope for now (issue 18), left out of the count.
OUT_OF_SCOPE_GROUPS = frozenset({"channels"})
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Row:
    service: str
    group: str
    method: str
    path: str
    web_app: str  # load | page | action | api-only

    @property
    def key(self) -> tuple[str, str]:
        return self.method, normalised(self.path)


def normalised(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/")


def reference_rows() -> list[Row]:
    with open(REFERENCE_DIR / "openwebui-0.12.4-operations.tsv", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return [Row(r["service"], r["group"], r["method"].upper(), r["path"], r["web app"])
                for r in reader if r["group"] not in OUT_OF_SCOPE_GROUPS]


def served_operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), normalised(path))
            for path, item in document.get("paths", {}).items()
            for method in item if method in METHODS}


def missing(document: dict) -> list[Row]:
    served = served_operations(document)
    return [row for row in reference_rows() if row.key not in served]


def summary(document: dict) -> str:
    rows, gaps = reference_rows(), missing(document)
    total, absent = Counter(r.service for r in rows), Counter(r.service for r in gaps)
    lines = [f"{service:10} {total[service] - absent[service]:4} of {total[service]}"
             for service in sorted(total)]
    served = len(rows) - len(gaps)
    lines.append(f"{'all':10} {served:4} of {len(rows)} ({served / len(rows):.0%})")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m tests.support.coverage GATEWAY_URL [--missing]")
    document = httpx.get(f"{argv[0].rstrip('/')}/openapi.json", timeout=30).json()
    print(summary(document))
    if "--missing" in argv:
        for row in missing(document):
            print(f"  {row.service:10} {row.group:28} {row.method:6} {row.path}  [{row.web_app}]")


if __name__ == "__main__":
    main(sys.argv[1:])
