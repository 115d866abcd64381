#!/usr/bin/env python3
"""A flood of connections that each send half a request head, against a running `stampede serve`.

Usage: bench/flood.py PORT SERVER_PID [attempts] [workers]
Each worker process opens attempts/workers connections as fast as it can and keeps them open; meanwhile the
main process samples the server's RSS every 100 ms and sends a deduct every 50 ms on fresh connections. Bounded:
every loop ends after its count or 120 s. Loopback only.
"""
import http.client, json, multiprocessing, os, resource, socket, sys, time

HALF_HEAD = b"GET /api/v1/inventory/HOT HTTP/1.1\r\nHost: flood\r\nX-Half: "


def flood(port, count, opened, refused_or_failed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    deadline = time.time() + 120
    for _ in range(count):
        if time.time() > deadline:
            break
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(HALF_HEAD)
            held.append(s)
            with opened.get_lock():
                opened.value += 1
        except OSError:
            with refused_or_failed.get_lock():
                refused_or_failed.value += 1
    time.sleep(15)  # hold them past the server's read timeout, then let go
    for s in held:
        s.close()


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    attempts = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    opened = multiprocessing.Value("i", 0)
    failed = multiprocessing.Value("i", 0)
    before = rss_mb(pid)
    procs = [multiprocessing.Process(target=flood, args=(port, attempts // workers, opened, failed)) for _ in range(workers)]
    for p in procs:
        p.start()
    peak, answered, refused, errors, order = before, 0, 0, 0, 0
    latencies = []
    started = time.time()
    while any(p.is_alive() for p in procs) and time.time() - started < 150:
        peak = max(peak, rss_mb(pid))
        order += 1
        body = json.dumps({"sku": "HOT", "user_id": f"u{order}", "order_id": f"flood-{order}", "amount": 1})
        t0 = time.time()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("POST", "/api/v1/inventory/deduct", body, {"Content-Type": "application/json"})
            status = c.getresponse().status
            c.close()
            if status == 200:
                answered += 1
                latencies.append(time.time() - t0)
            else:
                refused += 1
        except OSError:
            errors += 1
        time.sleep(0.05)
    for p in procs:
        p.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    print(f"attempts {attempts}: held by the client at some point {opened.value}, connect or send failed {failed.value}")
    print(f"server RSS: before {before:.0f} MB, peak {peak:.0f} MB, after {rss_mb(pid):.0f} MB")
    print(f"deducts during the flood: {answered} answered 200 (p99 {p99:.1f} ms), {refused} other status, {errors} failed")


if __name__ == "__main__":
    main()
