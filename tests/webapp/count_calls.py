"""Counts calls from a process of its own, on the store the environment names as the app reads it
(SQLITE_PATH, or MONGODB_URI): `python count_calls.py VERSION THREADS CALLS`.

Prints `ready` once the store is open, waits for a line on stdin (so that every process starts together),
then counts THREADS x CALLS calls of VERSION on THREADS threads and prints one JSON line: the total each call
returned.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

from webapp.config import config_from_env
from webapp.store import open_store


def main() -> None:
    version, threads, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = open_store(config_from_env())
    print("ready", flush=True)
    sys.stdin.readline()

    def work(_: int) -> list[int]:
        return [store.count_call(version).calls for _ in range(calls)]

    with ThreadPoolExecutor(threads) as pool:
        seen = [total for totals in pool.map(work, range(threads)) for total in totals]
    store.close()
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
