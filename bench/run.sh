#!/usr/bin/env bash
# capfile against curl, measured: see "Performance" in the README.
#
#   bench/run.sh                     # the full run (1 GiB file, 1,000 images)
#   BENCH_BIG_MB=64 bench/run.sh     # a quick check with a 64 MiB file
#   BENCH_ONLY=rate bench/run.sh     # only the rate-limit case (no nginx, no hyperfine)
#   BENCH_ONLY=memory bench/run.sh   # only the memory-per-batch-size case (likewise)
#   BENCH_ONLY=unchanged bench/run.sh # only the "all unchanged" manifest re-run (likewise)
#   BENCH_ONLY=inspect bench/run.sh  # only the 10,000-image header check (likewise)
#   BENCH_ONLY=manifest bench/run.sh  # only the large-manifest dry run (likewise)
#   BENCH_ONLY=fit bench/run.sh      # only images made to fit, against ImageMagick
#                                    # and libvips (bench/fit.sh; its knobs there)
#   BENCH_ONLY=far bench/run.sh      # only the far-link, CPU-per-upload and 429 cases (bench/far.sh)
#   bench/run.sh > results.md        # the table on stdout; progress on stderr
#
# It installs what it lacks (nginx, hyperfine, time, curl, jq; openssl and
# python3 for the far-link case) with apt-get,
# builds capfile with `cargo build --release`, starts nginx on 127.0.0.1 as a
# neutral upload sink (bench/nginx.conf.in, not capfile's code), generates its
# own images in a temp dir on disk, times with hyperfine and measures peak RSS
# with /usr/bin/time -v, and prints min / median / max of each figure. Nothing
# leaves 127.0.0.1. nginx, the emulator and the temp files are removed on exit,
# failure or Ctrl-C. Timings are printed, never asserted; this is not part of
# `cargo test` or `.ci/run`.
#
# Knobs (environment):
#   BENCH_BIG_MB=1024        size of the one big file, MiB
#   BENCH_SMALL_COUNT=1000   number of small images
#   BENCH_SMALL_KB=64        size of each small image, KiB
#   BENCH_JOBS=8             -j for capfile, -P for xargs
#   BENCH_BIG_RUNS=10        timed runs per tool, big file, in turns (after 1 warm-up)
#   BENCH_RSS_RUNS=5         /usr/bin/time -v runs per tool, big file
#   BENCH_BATCH_RUNS=10      timed runs of capfile on the small images
#   BENCH_XARGS_RUNS=5       timed runs of `xargs -P 8 curl`
#   BENCH_LOOP_RUNS=5        timed runs of the sequential curl loop
#   BENCH_STARTUP_RUNS=200   timed runs of each `--version`
#   BENCH_EMU_RUNS=10        timed runs of the emulator batch
#   BENCH_RATE_FILES=300     images sent to the rate-limited emulator
#   BENCH_RATE_LIMIT=60      uploads it accepts per window...
#   BENCH_RATE_WINDOW=10     ...of this many seconds (rolling), 429 beyond
#   BENCH_RATE_RUNS=3        runs without, and runs with, --rate LIMIT/WINDOWs
#   BENCH_MEM_FEW=1000       memory case: peak RSS of `-o url` piped at this
#   BENCH_MEM_MANY=100000    many inputs and at this many (target: at most 1.5x)
#   BENCH_MEM_KB=8           size of each of its images, KiB (hard links of one file)
#   BENCH_UNCHANGED_COUNT=1000 "all unchanged" case: images uploaded once with
#   BENCH_UNCHANGED_KB=64      --manifest, then re-run unchanged (no request sent;
#   BENCH_UNCHANGED_RUNS=10    target: under 0.3 s), timed runs
#   BENCH_INSPECT_COUNT=10000 inspect case: real images (hard links of the
#   BENCH_INSPECT_RUNS=5       test fixtures) checked by `capfile inspect -r` and
#                              `upload --dry-run --policy`; timed runs of each
#   BENCH_MANIFEST_ENTRIES=100000 large-manifest case: `--dry-run --manifest M`
#   BENCH_MANIFEST_RUNS=5      with M holding this many entries (target: under
#                              2 s; peak RSS reported), timed runs
#   BENCH_FAR_*, BENCH_CPU_COUNT the far-link case's knobs: see bench/far.sh
#   BENCH_ONLY=rate          run the rate-limit case alone
#   BENCH_ONLY=memory        run the memory case alone
#   BENCH_TMPDIR=/var/tmp    where the temp dir goes (needs ~2x BENCH_BIG_MB)
#   BENCH_CAPFILE=path       time this capfile binary instead of building one
#   BENCH_HYPERFINE_OPTS     hyperfine's display options (default --style basic;
#                            --show-output shows what a failing command said)

set -euo pipefail
export LC_ALL=C

if [[ ${BENCH_ONLY:-} == fit ]]; then
    exec "$(dirname "${BASH_SOURCE[0]}")/fit.sh"
fi

BIG_MB=${BENCH_BIG_MB:-1024}
SMALL_COUNT=${BENCH_SMALL_COUNT:-1000}
SMALL_KB=${BENCH_SMALL_KB:-64}
JOBS=${BENCH_JOBS:-8}
BIG_RUNS=${BENCH_BIG_RUNS:-10}
RSS_RUNS=${BENCH_RSS_RUNS:-5}
BATCH_RUNS=${BENCH_BATCH_RUNS:-10}
XARGS_RUNS=${BENCH_XARGS_RUNS:-5}
LOOP_RUNS=${BENCH_LOOP_RUNS:-5}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-200}
EMU_RUNS=${BENCH_EMU_RUNS:-10}
RATE_FILES=${BENCH_RATE_FILES:-300}
RATE_LIMIT=${BENCH_RATE_LIMIT:-60}
RATE_WINDOW=${BENCH_RATE_WINDOW:-10}
RATE_RUNS=${BENCH_RATE_RUNS:-3}
MEM_FEW=${BENCH_MEM_FEW:-1000}
MEM_MANY=${BENCH_MEM_MANY:-100000}
MEM_KB=${BENCH_MEM_KB:-8}
UNCH_COUNT=${BENCH_UNCHANGED_COUNT:-1000}
UNCH_KB=${BENCH_UNCHANGED_KB:-64}
UNCH_RUNS=${BENCH_UNCHANGED_RUNS:-10}
INSP_COUNT=${BENCH_INSPECT_COUNT:-10000}
INSP_RUNS=${BENCH_INSPECT_RUNS:-5}
MANI_ENTRIES=${BENCH_MANIFEST_ENTRIES:-100000}
MANI_RUNS=${BENCH_MANIFEST_RUNS:-5}
ONLY=${BENCH_ONLY:-}
[[ -z $ONLY || $ONLY == rate || $ONLY == memory || $ONLY == unchanged || $ONLY == inspect || $ONLY == manifest || $ONLY == far ]] || {
    printf 'bench: error: BENCH_ONLY is "rate", "memory", "unchanged", "inspect", "manifest", "far" or unset\n' >&2
    exit 1
}
TMP_PARENT=${BENCH_TMPDIR:-/var/tmp}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE="$0${*:+ $*}"
for knob in BENCH_BIG_MB BENCH_SMALL_COUNT BENCH_SMALL_KB BENCH_JOBS BENCH_BIG_RUNS BENCH_RSS_RUNS \
    BENCH_BATCH_RUNS BENCH_XARGS_RUNS BENCH_LOOP_RUNS BENCH_STARTUP_RUNS BENCH_EMU_RUNS \
    BENCH_RATE_FILES BENCH_RATE_LIMIT BENCH_RATE_WINDOW BENCH_RATE_RUNS BENCH_MEM_FEW BENCH_MEM_MANY \
    BENCH_MEM_KB BENCH_UNCHANGED_COUNT BENCH_UNCHANGED_KB BENCH_UNCHANGED_RUNS BENCH_INSPECT_COUNT \
    BENCH_INSPECT_RUNS BENCH_MANIFEST_ENTRIES BENCH_MANIFEST_RUNS BENCH_ONLY \
    BENCH_FAR_COUNT BENCH_FAR_KB BENCH_FAR_RTTS BENCH_FAR_RUNS BENCH_CPU_COUNT BENCH_FAR_RATE_FILES; do
    if [[ -n ${!knob:-} ]]; then
        COMMAND_LINE="$knob=${!knob} $COMMAND_LINE"
    fi
done

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

# ---------------------------------------------------------------- cleanup
WORK=""
NGINX_PID=""
EMU_PID=""
RATE_EMU_PID=""
MEM_EMU_PID=""
UNCH_EMU_PID=""
stop_emulator() { # stop_emulator PID
    if [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; then
        # Ctrl-C is how `capfile serve` stops; TERM if it has not in 5 s.
        kill -INT "$1"
        for _ in $(seq 50); do
            kill -0 "$1" 2>/dev/null || break
            sleep 0.1
        done
        # Under `set -e`: it may be gone already, and `wait` gives its status.
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
cleanup() {
    local status=$?
    set +e
    ! declare -F far_cleanup >/dev/null || far_cleanup
    stop_emulator "$EMU_PID"
    stop_emulator "$RATE_EMU_PID"
    stop_emulator "$MEM_EMU_PID"
    stop_emulator "$UNCH_EMU_PID"
    if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -TERM "$NGINX_PID"
        wait "$NGINX_PID" 2>/dev/null
    fi
    if [[ -n $WORK && -d $WORK ]]; then
        rm -rf -- "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools
missing=()
if [[ -z $ONLY || $ONLY == far ]]; then
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
    command -v curl >/dev/null || missing+=(curl)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v python3 >/dev/null || missing+=(python3)
fi
[[ -n $ONLY ]] || command -v hyperfine >/dev/null || missing+=(hyperfine)
[[ $ONLY == rate || -x /usr/bin/time ]] || missing+=(time)
command -v jq >/dev/null || missing+=(jq)
install_missing ${missing[@]+"${missing[@]}"}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# hyperfine -N (no shell) came in 1.13; older ones fall back to a shell,
# whose start-up hyperfine measures and subtracts.
NO_SHELL=(-N)
[[ -n $ONLY ]] || hyperfine -N --runs 1 true >/dev/null 2>&1 || NO_SHELL=()

# ---------------------------------------------------------------- capfile
build_capfile

# ---------------------------------------------------------------- temp dir
mkdir -p "$TMP_PARENT"
if [[ -n $ONLY ]]; then
    BIG_MB=0 SMALL_COUNT=0
fi
# The memory case's images are hard links of one file; the emulator stores
# each upload.
MEM_KB_STORED=$(((MEM_FEW + MEM_MANY) * MEM_KB))
[[ $ONLY == rate || $ONLY == unchanged || $ONLY == inspect || $ONLY == manifest || $ONLY == far ]] && MEM_KB_STORED=0
[[ $ONLY == rate || $ONLY == memory || $ONLY == inspect || $ONLY == manifest || $ONLY == far ]] && UNCH_COUNT=0
need_kb=$(((BIG_MB * 2 + SMALL_COUNT * SMALL_KB * (EMU_RUNS + 2) / 1024 + MEM_KB_STORED / 1024 \
    + UNCH_COUNT * UNCH_KB * 2 / 1024 + 256) * 1024))
free_kb=$(df -Pk "$TMP_PARENT" | awk 'NR == 2 { print $4 }')
((free_kb > need_kb)) || die "$TMP_PARENT has $((free_kb / 1024)) MiB free; this run needs about $((need_kb / 1024)) MiB (set BENCH_TMPDIR)"
WORK=$(mktemp -d "$TMP_PARENT/capfile-bench.XXXXXX")
mkdir -p "$WORK/nginx" "$WORK/small" "$WORK/emu" "$WORK/json" "$WORK/rate" "$WORK/mem-few" "$WORK/mem-many" "$WORK/unchanged"

# ---------------------------------------------------------------- images
# Real image bytes as far as capfile's header check goes: the PNG signature,
# an IHDR chunk (64 x 48, RGB), an IDAT chunk header, then random data as its
# image data (random, so nothing on the way can compress it).
png() { # png FILE BYTES
    {
        printf '\211PNG\r\n\032\n\0\0\0\015IHDR\0\0\0\100\0\0\0\060\010\002\0\0\0\0\0\0\0'
        printf '\0\0\0\0IDAT'
        head -c "$(($2 - 41))" /dev/urandom
    } >"$1"
}
BIG=$WORK/big.png
BIG_BYTES=$((BIG_MB * 1024 * 1024))
if [[ -z $ONLY ]]; then
    say "writing a $BIG_MB MiB image and $SMALL_COUNT images of $SMALL_KB KiB under $WORK"
    png "$BIG" "$BIG_BYTES"
    for ((i = 1; i <= SMALL_COUNT; i++)); do
        png "$(printf '%s/small/img-%05d.png' "$WORK" "$i")" $((SMALL_KB * 1024))
    done
fi
for ((i = 1; i <= UNCH_COUNT; i++)); do
    png "$(printf '%s/unchanged/img-%05d.png' "$WORK" "$i")" $((UNCH_KB * 1024))
done
[[ $ONLY == unchanged || $ONLY == inspect || $ONLY == manifest || $ONLY == far ]] && RATE_FILES=0
for ((i = 1; i <= RATE_FILES; i++)); do
    png "$(printf '%s/rate/img-%05d.png' "$WORK" "$i")" 4096
done

if [[ -z $ONLY || $ONLY == memory ]]; then
    say "linking $MEM_FEW and $MEM_MANY names to one $MEM_KB KiB image"
    # A file system allows some tens of thousands of links to one file: one
    # copy per 10,000 names.
    png "$WORK/mem.png" $((MEM_KB * 1024))
    for ((k = 0; k <= MEM_MANY / 10000; k++)); do
        cp "$WORK/mem.png" "$WORK/mem-$k.png"
    done
    for dir in few many; do
        count=$MEM_FEW
        [[ $dir == many ]] && count=$MEM_MANY
        perl -e 'for my $i (1 .. $ARGV[1]) {
            link sprintf("%s/mem-%d.png", $ARGV[0], int($i / 10000)), sprintf("%s/mem-%s/img-%06d.png", $ARGV[0], $ARGV[2], $i)
                or die "link: $!" }' "$WORK" "$count" "$dir"
    done
fi

# ---------------------------------------------------------------- sinks
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if port_is_free "$port"; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}
wait_for_port() { # wait_for_port PORT PID
    for _ in $(seq 100); do
        kill -0 "$2" 2>/dev/null || return 1
        port_is_free "$1" || return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- rate limit
# stats: "min median max" of the numbers on standard input
stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        print v[1], m, v[NR] }'
}
# rate_run NAME ARGS...: one batch of the rate images, `capfile upload -j JOBS
# ARGS`, against an emulator that accepts RATE_LIMIT uploads per rolling
# RATE_WINDOW seconds and answers 429 without Retry-After beyond that (as
# Capillary documents no such header). A new emulator per run, so that every
# run starts on an empty window. Appends "seconds 429s" to $WORK/rate-NAME.txt.
rate_run() {
    local name=$1 port start end limited
    shift
    port=$(pick_port)
    "$CAPFILE" serve --addr "127.0.0.1:$port" --data "$WORK/rate-emu" \
        --rate-limit "$RATE_LIMIT/${RATE_WINDOW}s" </dev/null 2>"$WORK/rate-emu.log" &
    RATE_EMU_PID=$!
    wait_for_port "$port" "$RATE_EMU_PID" || die "the rate-limited emulator did not start: $(cat "$WORK/rate-emu.log")"
    start=$(date +%s.%N)
    (cd "$WORK/rate" && CAPFILE_BASE_URL=http://127.0.0.1:$port CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile \
        "$CAPFILE" upload --no-progress -j "$JOBS" "$@" -- *.png >/dev/null 2>"$WORK/rate-$name.err") ||
        die "capfile upload $* failed against the rate limit: $(tail -n 3 "$WORK/rate-$name.err")"
    end=$(date +%s.%N)
    stop_emulator "$RATE_EMU_PID"
    RATE_EMU_PID=""
    limited=$(sed -n 's/^rate limit: the service answered 429 \([0-9]*\) time.*/\1/p' "$WORK/rate-$name.err")
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }') ${limited:-0}" >>"$WORK/rate-$name.txt"
}
# rate_case: the runs, in turns, then their table on stdout.
rate_case() {
    local r name label secs limited ideal
    for ((r = 1; r <= RATE_RUNS; r++)); do
        rate_run adaptive
        rate_run set --rate "$RATE_LIMIT/${RATE_WINDOW}s"
        say "  round $r/$RATE_RUNS: without --rate $(awk 'END { printf "%.1f s, %d 429s", $1, $2 }' "$WORK/rate-adaptive.txt");" \
            "with --rate $(awk 'END { printf "%.1f s, %d 429s", $1, $2 }' "$WORK/rate-set.txt")"
    done
    ideal=$(awk -v n="$RATE_FILES" -v l="$RATE_LIMIT" -v w="$RATE_WINDOW" 'BEGIN { printf "%.0f", n * w / l }')
    echo "Rate limit: $RATE_FILES images of 4 KiB, \`-j $JOBS\`, against \`capfile serve --rate-limit $RATE_LIMIT/${RATE_WINDOW}s\`" \
        "($RATE_LIMIT uploads per rolling $RATE_WINDOW s, then 429 without Retry-After); ideal time" \
        "$RATE_FILES ÷ $RATE_LIMIT × $RATE_WINDOW s = $ideal s (a rolling window lets the first $RATE_LIMIT go at once," \
        "so $(awk -v n="$RATE_FILES" -v l="$RATE_LIMIT" -v w="$RATE_WINDOW" 'BEGIN { k = int((n + l - 1) / l); printf "%d", (k - 1) * w }') s is the floor)."
    echo
    echo "| run | runs | min (s) | median (s) | max (s) | median ÷ ideal | 429s: min | median | max |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for name in adaptive set; do
        if [[ $name == adaptive ]]; then
            label="\`capfile upload\` (learns the limit)"
        else
            label="\`capfile upload --rate $RATE_LIMIT/${RATE_WINDOW}s\`"
        fi
        secs=$(awk '{ print $1 }' "$WORK/rate-$name.txt" | stats)
        limited=$(awk '{ print $2 }' "$WORK/rate-$name.txt" | stats)
        echo "| $label | $RATE_RUNS | $(awk '{ printf "%.1f | %.1f | %.1f", $1, $2, $3 }' <<<"$secs")" \
            "| $(awk -v i="$ideal" '{ printf "%.2f×", $2 / i }' <<<"$secs")" \
            "| $(awk '{ printf "%d | %d | %d", $1, $2, $3 }' <<<"$limited") |"
    done
    echo
}

# ---------------------------------------------------------------- memory
# mem_run DIR: one `capfile upload -r DIR -o url`, piped, against a fresh
# emulator; prints "peak-RSS-MiB seconds urls".
mem_run() {
    local port urls
    port=$(pick_port)
    rm -rf "$WORK/mem-emu"
    "$CAPFILE" serve --addr "127.0.0.1:$port" --data "$WORK/mem-emu" </dev/null 2>"$WORK/mem-emu.log" &
    MEM_EMU_PID=$!
    wait_for_port "$port" "$MEM_EMU_PID" || die "the emulator did not start: $(cat "$WORK/mem-emu.log")"
    urls=$(CAPFILE_BASE_URL=http://127.0.0.1:$port CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile \
        /usr/bin/time -v -o "$WORK/mem-time.txt" "$CAPFILE" upload --no-progress -q -j "$JOBS" -o url -r "$1" | wc -l)
    stop_emulator "$MEM_EMU_PID"
    MEM_EMU_PID=""
    awk -F': ' -v urls="$urls" '
        /Maximum resident set size/ { rss = $2 / 1024 }
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); secs = (n == 3) ? t[1] * 3600 + t[2] * 60 + t[3] : t[1] * 60 + t[2] }
        END { printf "%.1f %.1f %d\n", rss, secs, urls }' "$WORK/mem-time.txt"
}
# mem_case: both batch sizes, then their table on stdout.
mem_case() {
    local few many ratio
    few=$(mem_run "$WORK/mem-few")
    say "  $MEM_FEW inputs: $few (MiB, s, URLs)"
    many=$(mem_run "$WORK/mem-many")
    say "  $MEM_MANY inputs: $many (MiB, s, URLs)"
    ratio=$(awk -v a="${few%% *}" -v b="${many%% *}" 'BEGIN { printf "%.2f", b / a }')
    echo "Memory: \`capfile upload -r DIR -o url -j $JOBS | wc -l\` against \`capfile serve\`, images of $MEM_KB KiB."
    echo
    echo "| inputs | peak RSS (MiB) | wall time (s) | URLs printed |"
    echo "|---:|---:|---:|---:|"
    awk -v n="$MEM_FEW" '{ printf "| %d | %.1f | %.1f | %d |\n", n, $1, $2, $3 }' <<<"$few"
    awk -v n="$MEM_MANY" '{ printf "| %d | %.1f | %.1f | %d |\n", n, $1, $2, $3 }' <<<"$many"
    echo
    echo "Peak RSS at $MEM_MANY inputs is ${ratio}× the peak at $MEM_FEW (target: at most 1.5×): $(
        awk -v r="$ratio" 'BEGIN { print (r <= 1.5) ? "met" : "NOT met" }')."
    echo
}

# shellcheck source=bench/far.sh
. "$REPO/bench/far.sh"

# ---------------------------------------------------------------- all unchanged
# unchanged_case: UNCH_COUNT images uploaded once with --manifest, then timed
# re-runs over the same, unchanged files: each hashes every file and sends
# nothing (checked: the emulator's log shows no request after the first run).
unchanged_case() {
    local port manifest r start end secs
    port=$(pick_port)
    "$CAPFILE" serve -v --addr "127.0.0.1:$port" --data "$WORK/unch-emu" </dev/null 2>"$WORK/unch-emu.log" &
    UNCH_EMU_PID=$!
    wait_for_port "$port" "$UNCH_EMU_PID" || die "the emulator did not start: $(cat "$WORK/unch-emu.log")"
    manifest=$WORK/unchanged.capfile.toml
    export CAPFILE_BASE_URL=http://127.0.0.1:$port CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile
    (cd "$WORK/unchanged" && "$CAPFILE" upload --no-progress -q -j "$JOBS" --manifest "$manifest" -- *.png >/dev/null) ||
        die "the first upload of the unchanged case failed"
    local logged
    logged=$(wc -l <"$WORK/unch-emu.log")
    : >"$WORK/unch.txt"
    for ((r = 1; r <= UNCH_RUNS; r++)); do
        start=$(date +%s.%N)
        (cd "$WORK/unchanged" && "$CAPFILE" upload --no-progress -j "$JOBS" --manifest "$manifest" -- *.png \
            >/dev/null 2>"$WORK/unch.err") || die "an unchanged re-run failed: $(tail -n 3 "$WORK/unch.err")"
        end=$(date +%s.%N)
        grep -Eq "^nothing to upload: $UNCH_COUNT files? unchanged" "$WORK/unch.err" ||
            die "an unchanged re-run uploaded something: $(cat "$WORK/unch.err")"
        awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' >>"$WORK/unch.txt"
    done
    unset CAPFILE_BASE_URL CAPFILE_USERNAME CAPFILE_PASSWORD
    [[ $(wc -l <"$WORK/unch-emu.log") == "$logged" ]] || die "the unchanged re-runs sent requests"
    stop_emulator "$UNCH_EMU_PID"
    UNCH_EMU_PID=""
    secs=$(stats <"$WORK/unch.txt")
    say "  all unchanged: $secs s (min median max)"
    echo "All unchanged: \`capfile upload --manifest M\` over $UNCH_COUNT images of $UNCH_KB KiB already in M (no request sent)."
    echo
    echo "| runs | min (s) | median (s) | max (s) | target: median < 0.3 s |"
    echo "|---:|---:|---:|---:|---|"
    echo "| $UNCH_RUNS | $(awk '{ printf "%.3f | %.3f | %.3f", $1, $2, $3 }' <<<"$secs") |" \
        "$(awk '{ print ($2 < 0.3) ? "met" : "NOT met" }' <<<"$secs") |"
    echo
}

# ---------------------------------------------------------------- inspect
# inspect_case: INSP_COUNT real images (hard links of the test fixtures: PNG,
# JPEG, GIF, WebP, AVIF), checked from their headers by `capfile inspect -r`
# and by `capfile upload --dry-run --policy` (the pre-flight pass, nothing
# sent); prints time and peak RSS of each.
inspect_case() {
    local dir=$WORK/inspect fixtures i k names=() r
    fixtures=$REPO/tests/fixtures/images
    names=(rgb-60x20.png rgb-40x40.jpg anim-3frames-10x10.gif still-60x20.webp rgb-16x16.avif)
    mkdir -p "$dir/images"
    for ((i = 1; i <= INSP_COUNT; i++)); do
        k=$((i % ${#names[@]}))
        ln "$fixtures/${names[$k]}" "$(printf '%s/images/img-%05d.%s' "$dir" "$i" "${names[$k]##*.}")" 2>/dev/null ||
            cp "$fixtures/${names[$k]}" "$(printf '%s/images/img-%05d.%s' "$dir" "$i" "${names[$k]##*.}")"
    done
    printf '[policies.bench]\nmax_bytes = 200000\nformats = ["png", "jpeg", "gif", "webp", "avif"]\nmax_pixels = 1000000\n' \
        >"$dir/config.toml"
    : >"$dir/inspect.txt"
    : >"$dir/upload.txt"
    for ((r = 1; r <= INSP_RUNS; r++)); do
        CAPFILE_CONFIG=$dir/config.toml /usr/bin/time -v -o "$dir/time.txt" \
            "$CAPFILE" inspect -q -r "$dir/images" >"$dir/out.tsv" || die "inspect failed"
        [[ $(wc -l <"$dir/out.tsv") == "$INSP_COUNT" ]] || die "inspect printed $(wc -l <"$dir/out.tsv") lines"
        inspect_figures "$dir/time.txt" >>"$dir/inspect.txt"
        CAPFILE_CONFIG=$dir/config.toml CAPFILE_BASE_URL=http://127.0.0.1:9 CAPFILE_USERNAME=u CAPFILE_PASSWORD=p \
            /usr/bin/time -v -o "$dir/time.txt" \
            "$CAPFILE" upload -q --dry-run --policy bench -r "$dir/images" >/dev/null || die "upload --dry-run failed"
        inspect_figures "$dir/time.txt" >>"$dir/upload.txt"
    done
    echo "Header checks: $INSP_COUNT real images (PNG, JPEG, GIF, WebP, AVIF), read from their headers only; $INSP_RUNS runs each."
    echo
    echo "| command | min (s) | median (s) | max (s) | peak RSS, median (MiB) |"
    echo "|---|---:|---:|---:|---:|"
    for which in inspect upload; do
        local label="\`capfile inspect -r DIR\`"
        [[ $which == upload ]] && label="\`capfile upload --dry-run --policy P -r DIR\`"
        echo "| $label | $(awk '{ print $1 }' "$dir/$which.txt" | stats | awk '{ printf "%.3f | %.3f | %.3f", $1, $2, $3 }') |" \
            "$(awk '{ print $2 }' "$dir/$which.txt" | stats | awk '{ printf "%.1f", $2 }') |"
    done
    echo
}
# inspect_figures TIME-FILE: "seconds peak-RSS-MiB" from /usr/bin/time -v
inspect_figures() {
    awk -F': ' '
        /Maximum resident set size/ { rss = $2 / 1024 }
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); secs = (n == 3) ? t[1] * 3600 + t[2] * 60 + t[3] : t[1] * 60 + t[2] }
        END { printf "%.3f %.1f\n", secs, rss }' "$1"
}

if [[ $ONLY == inspect ]]; then
    say "the header-check case alone: $INSP_COUNT images, $INSP_RUNS runs"
    inspect_case
    exit 0
fi

# ---------------------------------------------------------------- large manifest
# manifest_case: `capfile upload --dry-run --manifest M` for one image, with M
# holding MANI_ENTRIES entries (none of them the image's): the time and peak
# RSS of reading and parsing a large manifest (guarantee 6 of issue 18: linear
# in its size; it was quadratic, 20,000 entries took 100 s). Nothing is sent:
# the base URL is a closed port.
manifest_case() {
    local manifest r secs rss bytes
    manifest=$WORK/large.capfile.toml
    awk -v n="$MANI_ENTRIES" 'BEGIN {
        print "[manifest]\nformat = 1\norigin = \"http://127.0.0.1:9\"\nnamespace = \"rewards\"\nbody = \"multipart\""
        for (i = 0; i < n; i++) {
            printf "\n[files.\"img/%06d.png\"]\nsha256 = \"%064d\"\nsize = %d\ncontent_type = \"image/png\"\n", i, i, 1000 + i
            printf "version = \"1\"\nfile_handle = \"73e78929-1e07-4cc5-a738-b54470a7dc8c\"\ns3_url = \"s3:/bucket/rewards/%06d.png\"\n", i
            printf "secure_file_path = \"https://s3.example/rewards/%06d.png?X-Amz-Date=20240508T034059Z&X-Amz-Expires=3600\"\n", i
            printf "url_expires_at = \"2024-05-08T04:40:59Z\"\nuploaded_at = \"2024-05-08T03:40:59Z\"\n"
        } }' >"$manifest"
    bytes=$(wc -c <"$manifest")
    png "$WORK/one.png" 4096
    : >"$WORK/mani.txt"
    for ((r = 1; r <= MANI_RUNS; r++)); do
        CAPFILE_BASE_URL=http://127.0.0.1:9 CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile \
            /usr/bin/time -v -o "$WORK/mani-time.txt" "$CAPFILE" upload --dry-run --manifest "$manifest" \
            "$WORK/one.png" >/dev/null 2>"$WORK/mani.err" || die "the large-manifest dry run failed: $(tail -n 3 "$WORK/mani.err")"
        grep -q "1 would be uploaded" "$WORK/mani.err" || die "the large-manifest dry run said: $(cat "$WORK/mani.err")"
        awk -F': ' '
            /Maximum resident set size/ { rss = $2 / 1024 }
            /Elapsed \(wall clock\)/ { n = split($2, t, ":"); secs = (n == 3) ? t[1] * 3600 + t[2] * 60 + t[3] : t[1] * 60 + t[2] }
            END { printf "%.2f %.1f\n", secs, rss }' "$WORK/mani-time.txt" >>"$WORK/mani.txt"
    done
    secs=$(awk '{ print $1 }' "$WORK/mani.txt" | stats)
    rss=$(awk '{ print $2 }' "$WORK/mani.txt" | stats)
    say "  large manifest: $secs s, $rss MiB (min median max)"
    echo "Large manifest: \`capfile upload --dry-run --manifest M\` for one image, M holding $MANI_ENTRIES entries" \
        "($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB of TOML)."
    echo
    echo "| runs | wall time (s): min | median | max | peak RSS (MiB): min | median | max | target: median < 2 s |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---|"
    echo "| $MANI_RUNS | $(awk '{ printf "%.2f | %.2f | %.2f", $1, $2, $3 }' <<<"$secs")" \
        "| $(awk '{ printf "%.1f | %.1f | %.1f", $1, $2, $3 }' <<<"$rss")" \
        "| $(awk '{ print ($2 < 2) ? "met" : "NOT met" }' <<<"$secs") |"
    echo
}

if [[ $ONLY == manifest ]]; then
    say "the large-manifest case alone: $MANI_RUNS dry runs with $MANI_ENTRIES entries"
    manifest_case
    exit 0
fi

if [[ $ONLY == far ]]; then
    say "the far-link case alone: $FAR_COUNT images at RTTs of $FAR_RTTS ms, then CPU per upload and 429s"
    far_case
    exit 0
fi

if [[ $ONLY == unchanged ]]; then
    say "the all-unchanged case alone: $UNCH_RUNS re-runs over $UNCH_COUNT images of $UNCH_KB KiB"
    unchanged_case
    exit 0
fi

if [[ $ONLY == memory ]]; then
    say "the memory case alone: $MEM_FEW and $MEM_MANY inputs of $MEM_KB KiB, -o url piped"
    mem_case
    exit 0
fi

if [[ $ONLY == rate ]]; then
    say "the rate limit alone: $RATE_RUNS rounds of $RATE_FILES images, without and with --rate"
    rate_case
    exit 0
fi

# The workers write request bodies into our private temp dir; as root, that
# needs them to run as root too (it is a loopback-only sink for this run).
USER_LINE=""
((EUID == 0)) && USER_LINE="user root;"
for attempt in 1 2 3 4 5; do
    PORT=$(pick_port)
    ANSWER_PORT=$(pick_port)
    [[ $PORT != "$ANSWER_PORT" ]] || continue
    sed -e "s|@WORK@|$WORK/nginx|g" -e "s|@USER@|$USER_LINE|" \
        -e "s|@PORT@|$PORT|g" -e "s|@ANSWER_PORT@|$ANSWER_PORT|g" \
        "$REPO/bench/nginx.conf.in" >"$WORK/nginx/nginx.conf"
    "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" -g 'daemon off;' \
        </dev/null >&2 &
    NGINX_PID=$!
    if wait_for_port "$PORT" "$NGINX_PID" && wait_for_port "$ANSWER_PORT" "$NGINX_PID"; then
        break
    fi
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
    say "nginx did not start (attempt $attempt): $(tail -n 3 "$WORK/nginx/error.log" 2>/dev/null)"
done
[[ -n $NGINX_PID ]] || die "cannot start nginx"
SINK=http://127.0.0.1:$PORT
URL=$SINK/api_gateway/file-service/rewards
say "nginx sink at $SINK (pid $NGINX_PID)"

EMU_PORT=$(pick_port)
"$CAPFILE" serve --addr "127.0.0.1:$EMU_PORT" --data "$WORK/emu" </dev/null 2>"$WORK/emu.log" &
EMU_PID=$!
wait_for_port "$EMU_PORT" "$EMU_PID" || die "the emulator did not start: $(cat "$WORK/emu.log")"
say "capfile's emulator at http://127.0.0.1:$EMU_PORT (pid $EMU_PID)"

# Both clients send the same Basic credentials; the sink does not check them.
export CAPFILE_BASE_URL=$SINK CAPFILE_USERNAME=u CAPFILE_PASSWORD=p
AUTH="u:$(printf p | md5sum | cut -d' ' -f1)"
CURL=(curl -sS -f -o /dev/null -u "$AUTH")
UPLOAD=("$CAPFILE" upload --no-progress -q -j "$JOBS")

# A wrong answer must fail loudly before anything is timed.
first=$WORK/small/img-00001.png
answer=$(curl -sS -f -u "$AUTH" -F "file=@$first" "$URL/img-00001.png")
[[ $answer == *secureFilePath* ]] || die "the sink answered: $answer"
answer=$("${UPLOAD[@]}" "$first") || die "capfile could not upload to the sink"
[[ $answer == *http://127.0.0.1/bench.png* ]] || die "capfile printed: $answer"
answer=$(CAPFILE_BASE_URL=http://127.0.0.1:$EMU_PORT CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile \
    "${UPLOAD[@]}" "$first") || die "capfile could not upload to the emulator"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- measuring
hf() { # hf NAME hyperfine-args...: runs hyperfine, JSON to $WORK/json/NAME.json
    local name=$1
    shift
    # shellcheck disable=SC2086 # BENCH_HYPERFINE_OPTS is a list of options
    hyperfine ${BENCH_HYPERFINE_OPTS:---style basic} --export-json "$WORK/json/$name.json" "$@" >&2
}
# rounds NAME ROUNDS LABEL1 COMMAND1 LABEL2 COMMAND2: one hyperfine run of each
# command per round, in turns (A B, then B A, ...), after one untimed round, so
# that a change in the machine's load hits both commands alike; hyperfine's
# usual "all runs of A, then all runs of B" would let it favour one of them.
rounds() {
    local name=$1 count=$2 r
    local first=(-n "$3" "$4") second=(-n "$5" "$6")
    hyperfine --style none --runs 1 "${first[@]}" "${second[@]}" >&2
    for ((r = 1; r <= count; r++)); do
        if ((r % 2)); then
            hyperfine --style none --runs 1 --export-json "$WORK/json/$name-$r.json" "${first[@]}" "${second[@]}" >&2
        else
            hyperfine --style none --runs 1 --export-json "$WORK/json/$name-$r.json" "${second[@]}" "${first[@]}" >&2
        fi
        say "  round $r/$count: $(jq -r '[.results[] | "\(.command) \(.mean * 1000 | round) ms"] | join(", ")' \
            "$WORK/json/$name-$r.json")"
    done
}
# round_secs NAME LABEL: "min median max" seconds of one command over all rounds
round_secs() {
    jq -r --arg name "$2" '.results[] | select(.command == $name) | .times[]' "$WORK/json/$1"-*.json | stats
}
# q WORDS...: the words quoted for a shell command line
q() {
    local words=() word
    for word; do words+=("$(printf %q "$word")"); done
    printf '%s' "${words[*]}"
}
# secs NAME LABEL: "min median max" seconds of one command of a hyperfine run
secs() {
    jq -r --arg name "$2" '.results[] | select(.command == $name) | "\(.min) \(.median) \(.max)"' \
        "$WORK/json/$1.json"
}
# peak_rss RUNS COMMAND...: "min median max" MiB of "Maximum resident set size"
peak_rss() {
    local runs=$1
    shift
    for ((r = 0; r < runs; r++)); do
        /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null
        awk -F': ' '/Maximum resident set size/ { print $2 / 1024 }' "$WORK/time.txt"
    done | stats
}

say "1/6: one $BIG_MB MiB file"
rounds big "$BIG_RUNS" \
    capfile "$(q "${UPLOAD[@]}" "$BIG")" \
    curl "$(q "${CURL[@]}" -F "file=@$BIG" "$URL/big.png")"
BIG_CAPFILE_T=$(round_secs big capfile)
BIG_CURL_T=$(round_secs big curl)
BIG_CAPFILE_RSS=$(peak_rss "$RSS_RUNS" "${UPLOAD[@]}" "$BIG")
BIG_CURL_RSS=$(peak_rss "$RSS_RUNS" "${CURL[@]}" -F "file=@$BIG" "$URL/big.png")

say "2/6: $SMALL_COUNT images of $SMALL_KB KiB"
cd "$WORK/small"
hf batch --warmup 1 --runs "$BATCH_RUNS" \
    -n capfile "$(q "${UPLOAD[@]}") *.png"
hf xargs --warmup 1 --runs "$XARGS_RUNS" \
    -n xargs "ls | xargs -P $JOBS -I{} $(q "${CURL[@]}") -F file=@{} $(q "$URL")/{}"
hf loop --warmup 1 --runs "$LOOP_RUNS" \
    -n loop "for f in *.png; do $(q "${CURL[@]}") -F \"file=@\$f\" $(q "$URL")/\"\$f\" || exit 1; done"
cd "$REPO"
BATCH_T=$(secs batch capfile)
XARGS_T=$(secs xargs xargs)
LOOP_T=$(secs loop loop)

say "3/6: start-up"
hf startup "${NO_SHELL[@]}" --warmup 20 --runs "$STARTUP_RUNS" \
    -n capfile "$(q "$CAPFILE") --version" \
    -n curl "curl --version"
START_CAPFILE_T=$(secs startup capfile)
START_CURL_T=$(secs startup curl)

say "4/6: the emulator"
cd "$WORK/small"
CAPFILE_BASE_URL=http://127.0.0.1:$EMU_PORT CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile \
    hf emu --warmup 1 --runs "$EMU_RUNS" -n emulator "$(q "${UPLOAD[@]}") *.png"
cd "$REPO"
EMU_T=$(secs emu emulator)

say "5/6: $RATE_FILES images against a limit of $RATE_LIMIT per $RATE_WINDOW s, without and with --rate"
rate_case >"$WORK/rate-table.md"

say "6/6: peak RSS at $MEM_FEW and $MEM_MANY inputs, -o url piped"
mem_case >"$WORK/mem-table.md"
unchanged_case >"$WORK/unchanged-table.md"
inspect_case >"$WORK/inspect-table.md"
manifest_case >"$WORK/manifest-table.md"

say "7/7: a far link (delay proxy, TLS h1 and h2), CPU per upload, 429s at 10/2s"
far_case >"$WORK/far-table.md"

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- the table
# fmt FORMAT "min median max" [SCALE]: the three figures, times SCALE
fmt() { awk -v f="$1" -v s="${3:-1}" '{ printf f " | " f " | " f, $1 * s, $2 * s, $3 * s }' <<<"$2"; }
# rate FORMAT "min median max" (seconds) AMOUNT: AMOUNT per second, slowest first
rate() { awk -v f="$1" -v a="$3" '{ printf f " | " f " | " f, a / $3, a / $2, a / $1 }' <<<"$2"; }
median() { awk '{ print $2 }' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    ok = (op == ">=") ? v >= t : (op == "<=") ? v <= t : v < t
    print ok ? "met" : "NOT met" }'; }

version() { "$@" 2>&1 | head -n 1; }
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
# shellcheck source=/dev/null
os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")

cat <<EOF
Machine: $cpu, $(nproc) CPUs, $mem RAM, $os, Linux $(uname -r); load average $LOAD_BEFORE before, $LOAD_AFTER after.
Tools: $(version "$CAPFILE" --version), $(version curl --version | cut -d' ' -f1-2), $(version "$NGINX" -v | sed 's/^nginx version: //'), $(version hyperfine --version).
Command: \`$COMMAND_LINE\` ($(date -u +%Y-%m-%d)); uploads go to nginx on 127.0.0.1 that reads each body in full, from files in the page cache.

| case | tool | runs | min | median | max |
|---|---|---:|---:|---:|---:|
| $BIG_MB MiB file, throughput (MiB/s) | \`capfile upload\` | $BIG_RUNS | $(rate %.0f "$BIG_CAPFILE_T" "$BIG_MB") |
| | \`curl -F file=@…\` | $BIG_RUNS | $(rate %.0f "$BIG_CURL_T" "$BIG_MB") |
| $BIG_MB MiB file, peak RSS (MiB) | \`capfile upload\` | $RSS_RUNS | $(fmt %.1f "$BIG_CAPFILE_RSS") |
| | \`curl -F file=@…\` | $RSS_RUNS | $(fmt %.1f "$BIG_CURL_RSS") |
| $SMALL_COUNT × $SMALL_KB KiB, wall time (s) | \`capfile upload -j $JOBS\` | $BATCH_RUNS | $(fmt %.2f "$BATCH_T") |
| | \`xargs -P $JOBS curl\` | $XARGS_RUNS | $(fmt %.2f "$XARGS_T") |
| | sequential curl loop | $LOOP_RUNS | $(fmt %.2f "$LOOP_T") |
| start-up (ms) | \`capfile --version\` | $STARTUP_RUNS | $(fmt %.2f "$START_CAPFILE_T" 1000) |
| | \`curl --version\` | $STARTUP_RUNS | $(fmt %.2f "$START_CURL_T" 1000) |
| emulator, $SMALL_KB KiB uploads/s | \`capfile serve\` ← \`capfile upload -j $JOBS\` | $EMU_RUNS | $(rate %.0f "$EMU_T" "$SMALL_COUNT") |

EOF

tput_ratio=$(ratio "$(median "$BIG_CURL_T")" "$(median "$BIG_CAPFILE_T")")
rss_max=$(awk '{ printf "%.1f", $3 }' <<<"$BIG_CAPFILE_RSS")
loop_ratio=$(ratio "$(median "$LOOP_T")" "$(median "$BATCH_T")")
xargs_ratio=$(ratio "$(median "$XARGS_T")" "$(median "$BATCH_T")")
start_ratio=$(ratio "$(median "$START_CAPFILE_T")" "$(median "$START_CURL_T")")
cat <<EOF
| target (medians) | figure | |
|---|---:|---|
| $BIG_MB MiB: capfile's throughput ≥ curl's | ${tput_ratio}× curl's | $(verdict "$tput_ratio" ">=" 1) |
| $BIG_MB MiB: capfile's peak RSS < 32 MiB (largest run) | $rss_max MiB | $(verdict "$rss_max" "<" 32) |
| $SMALL_COUNT images: ≥ 10× faster than the curl loop | ${loop_ratio}× | $(verdict "$loop_ratio" ">=" 10) |
| $SMALL_COUNT images: ≥ 2× faster than \`xargs -P $JOBS curl\` | ${xargs_ratio}× | $(verdict "$xargs_ratio" ">=" 2) |
| start-up within 2× curl's | ${start_ratio}× curl's | $(verdict "$start_ratio" "<=" 2) |
EOF

cat "$WORK/rate-table.md"
cat "$WORK/mem-table.md"
cat "$WORK/unchanged-table.md"
cat "$WORK/inspect-table.md"
cat "$WORK/manifest-table.md"
cat "$WORK/far-table.md"
