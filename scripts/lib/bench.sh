# Shared by the bench scripts (source it): run times commands, report prints the table,
# build_drmpack and shaka_packager provide the tools.
# Set rounds (default 3) and bytes (the input size the MB/s column divides) before report.

results=()
rounds=${ROUNDS:-3}

# run NAME COMMAND...: the median wall time of $rounds runs, each in a fresh ./out after a sync
# so that no tool pays for another's dirty pages being written back; the peak RSS of all runs;
# and the median CPU time (user + system), which other jobs on a shared machine disturb far less
# than the wall-clock time.
run() {
  local name=$1; shift
  local times=() cpus=() rss=0
  for ((i = 0; i < rounds; i++)); do
    rm -rf out && mkdir out && sync
    /usr/bin/time -f "%e %M %U %S" -o time.txt "$@" > run.log 2>&1 || { echo "$name failed:" >&2; tail -20 run.log >&2; exit 1; }
    read -r secs kb user sys < time.txt
    times+=("$secs"); cpus+=("$(echo "$user + $sys" | bc -l)"); ((kb > rss)) && rss=$kb
  done
  local median cpu
  median=$(printf "%s\n" "${times[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
  cpu=$(printf "%s\n" "${cpus[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
  results+=("$name $median $rss $cpu")
}

# report: one line per run: seconds, MB/s of $bytes, speed relative to the first run (cp), peak
# RSS, CPU seconds.
report() {
  local cp_secs name secs rss cpu mbs ratio
  cp_secs=$(echo "${results[0]}" | cut -d' ' -f2)
  printf "%-28s %8s %9s %9s %10s %8s\n" tool seconds MB/s "vs cp" "peak RSS" "CPU s"
  for r in "${results[@]}"; do
    read -r name secs rss cpu <<< "$r"
    mbs=$(echo "$bytes/1048576/$secs" | bc -l)
    ratio=$(echo "$cp_secs/$secs" | bc -l)
    printf "%-28s %8.2f %9.0f %9.2f %7.0f MB %8.2f\n" "$name" "$secs" "$mbs" "$ratio" "$(echo "$rss/1024" | bc -l)" "$cpu"
  done
}

# build_drmpack DIR: the CLI as a static binary DIR/drmpack, as a server would run it.
build_drmpack() {
  echo "building drmpack ..." >&2
  (cd "$root" && CGO_ENABLED=0 go build -o "$1/drmpack" ./cmd/drmpack)
}

# shaka_packager: installs Shaka Packager 3.4.2 (npm's static binary) into ./shaka once and
# prints its path.
shaka_packager() {
  if [[ ! -x shaka/node_modules/shaka-packager/bin/packager-linux-x64 ]]; then
    echo "installing shaka-packager 3.4.2 from npm ..." >&2
    npm install --prefix shaka --no-save --no-audit --no-fund shaka-packager@3.4.2 >/dev/null
  fi
  echo shaka/node_modules/shaka-packager/bin/packager-linux-x64
}
