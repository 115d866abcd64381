#!/usr/bin/env bash
# Two builds side by side in Redis mode (bench/ab.sh redis).
# Usage: bench/redis-ab.sh BASE_BIN [rounds] [seconds] [connections]   (needs wrk, redis-server, redis-tools)
exec "$(dirname "$0")/ab.sh" redis "$@"
