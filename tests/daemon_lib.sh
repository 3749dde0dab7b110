# Helpers for tests that start our daemons (sourced; expects fail()).

# metrics_addr LOG [FROM_LINE]: the HOST:PORT of the first "metrics on
# http://..." line a daemon wrote to LOG (its stderr) at or after FROM_LINE,
# waiting for it (bounded). Daemons take their metrics port themselves
# (--metrics-listen=HOST:0) and log the one they got.
metrics_addr() {
  for _ in $(seq 1 300); do
    local a
    a=$(tail -n "+${2:-1}" "$1" 2>/dev/null | grep -o 'metrics on http://[^/]*' | head -n1 | sed 's|^metrics on http://||' || true)
    [[ -n "$a" ]] && { echo "$a"; return 0; }
    sleep 0.1
  done
  fail "no metrics address in $1 within 30 s"
}

# next_line LOG: the number of the line a daemon appending to LOG writes next.
next_line() {
  if [[ -f "$1" ]]; then echo $(( $(wc -l <"$1") + 1 )); else echo 1; fi
}
