-- wrk script: GET /health/live, the HTTP stack's ceiling on the same server. Run from the repo root.
package.path = "bench/?.lua;" .. package.path
done = require("report").done
