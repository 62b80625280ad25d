"""Load generator for the exactness and durability tests: `python hammer.py PORT THREADS REQUESTS`.

Each thread sends up to REQUESTS `GET /` (JSON) on one keep-alive connection and stops early at the first
connection failure (the server was killed). Prints one JSON line: how many answers of each status, how many
requests failed without an answer, the highest `calls` value seen in a 200, and every `calls` value seen.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading


def hammer(port: int, threads: int, requests: int) -> dict[str, object]:
    lock = threading.Lock()
    statuses: dict[str, int] = {}
    result = {"unanswered": 0, "max_calls": 0}
    seen: list[int] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(requests):
            try:
                conn.request("GET", "/", headers={"Accept": "application/json"})
                answer = conn.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    result["unanswered"] += 1
                break
            with lock:
                statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
                if answer.status == 200:
                    calls = json.loads(body)["calls"]
                    seen.append(calls)
                    result["max_calls"] = max(result["max_calls"], calls)
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"statuses": statuses, **result, "seen": seen}


if __name__ == "__main__":
    port, threads, requests = (int(arg) for arg in sys.argv[1:4])
    print(json.dumps(hammer(port, threads, requests)), flush=True)
