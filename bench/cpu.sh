# Sourced by the bench scripts: CPU time per request of the server and of wrk, next to wrk's numbers.

# Clock ticks (user + system) used so far by the processes given.
process_ticks() {
  local sum=0 pid
  for pid in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$sum"
}

# wrk_with_cpu SERVER_PID WRK_ARGS...: runs wrk, prints its STAT lines, then a CPU line with the server's and
# wrk's CPU time per request in µs (on a shared machine, what a request costs rather than how fast it went).
wrk_with_cpu() {
  local server=$1 ticks0 ticks1 out requests
  shift
  ticks0=$(process_ticks "$server")
  out=$({ TIMEFORMAT='WRKCPU %U %S'; time wrk "$@"; } 2>&1)
  ticks1=$(process_ticks "$server")
  echo "$out" | grep STAT
  requests=$(echo "$out" | grep -o 'requests=[0-9]*' | cut -d= -f2)
  echo "$out" | awk -v r="$requests" -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" '/^WRKCPU/ {
    printf "CPU server_us_per_request=%.1f wrk_us_per_request=%.1f\n", t / hz * 1e6 / r, ($2 + $3) * 1e6 / r
  }'
}
