#!/usr/bin/env bash
# Images made to fit on the way out (issue 24), measured: capfile against
# ImageMagick and libvips. Run through `BENCH_ONLY=fit bench/run.sh`, or alone.
#
#   BENCH_ONLY=fit bench/run.sh
#   BENCH_FIT_COUNT=20 BENCH_FIT_RUNS=1 bench/fit.sh   # a quick check
#
# COUNT JPEG photos of about 12 megapixels (4000 x 3000, made once with
# ImageMagick's plasma fractal, then copied) are made to fit in 2048 x 2048,
# stripped of metadata, at quality 85, and sent to the nginx sink
# (bench/nginx.conf.in), three ways, in turns, RUNS times each:
#   capfile   `capfile upload -j JOBS --fit 2048x2048 --strip-metadata --quality 85`
#   magick    copy the photos, `mogrify -resize 2048x2048> -strip -quality 85`
#             on the copies (JOBS mogrify processes at once, 10 files each),
#             then `xargs -P JOBS curl` to the sink
#   vips      `vipsthumbnail --size 2048x2048 -o %s.jpg[Q=85,strip]` (JOBS at
#             once, 10 files each) into a new dir, then `xargs -P JOBS curl`
# It installs what it lacks (nginx, curl, imagemagick, libvips-tools) with
# apt-get, builds capfile with `cargo build --release` (or times
# BENCH_CAPFILE), and prints a table of min / median / max seconds. Timings
# are printed, never asserted. Nothing leaves 127.0.0.1; nginx and the temp
# files are removed on exit, failure or Ctrl-C.
#
# Knobs: BENCH_FIT_COUNT=200, BENCH_FIT_RUNS=3, BENCH_JOBS=8,
# BENCH_TMPDIR=/var/tmp (needs about COUNT x 6 MiB), BENCH_CAPFILE=path.

set -euo pipefail
export LC_ALL=C

COUNT=${BENCH_FIT_COUNT:-200}
RUNS=${BENCH_FIT_RUNS:-3}
JOBS=${BENCH_JOBS:-8}
TMP_PARENT=${BENCH_TMPDIR:-/var/tmp}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

WORK=""
NGINX_PID=""
cleanup() {
    local status=$?
    set +e
    if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -TERM "$NGINX_PID"
        wait "$NGINX_PID" 2>/dev/null
    fi
    [[ -n $WORK && -d $WORK ]] && rm -rf -- "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools
missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
command -v mogrify >/dev/null || missing+=(imagemagick)
command -v vipsthumbnail >/dev/null || missing+=(libvips-tools)
install_missing ${missing[@]+"${missing[@]}"}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

build_capfile

# ---------------------------------------------------------------- photos
mkdir -p "$TMP_PARENT"
WORK=$(mktemp -d "$TMP_PARENT/capfile-fit.XXXXXX")
mkdir -p "$WORK/photos" "$WORK/nginx"
say "making one 4000x3000 photo and $COUNT copies under $WORK"
convert -size 4000x3000 -seed 24 plasma:fractal -blur 0x1 -quality 92 "$WORK/photo.jpg"
for ((i = 1; i <= COUNT; i++)); do
    cp "$WORK/photo.jpg" "$(printf '%s/photos/photo-%04d.jpg' "$WORK" "$i")"
done
PHOTO_BYTES=$(stat -c %s "$WORK/photo.jpg")

# ---------------------------------------------------------------- sink
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        port_is_free "$port" && { echo "$port"; return; }
    done
    die "no free port found"
}
wait_for_port() {
    for _ in $(seq 100); do
        kill -0 "$2" 2>/dev/null || return 1
        port_is_free "$1" || return 0
        sleep 0.1
    done
    return 1
}
USER_LINE=""
((EUID == 0)) && USER_LINE="user root;"
PORT=$(pick_port)
ANSWER_PORT=$(pick_port)
sed -e "s|@WORK@|$WORK/nginx|g" -e "s|@USER@|$USER_LINE|" -e "s|@PORT@|$PORT|g" \
    -e "s|@ANSWER_PORT@|$ANSWER_PORT|g" "$REPO/bench/nginx.conf.in" >"$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" -g 'daemon off;' </dev/null >&2 &
NGINX_PID=$!
wait_for_port "$PORT" "$NGINX_PID" && wait_for_port "$ANSWER_PORT" "$NGINX_PID" || die "nginx did not start"
SINK=http://127.0.0.1:$PORT
URL=$SINK/api_gateway/file-service/rewards
export CAPFILE_BASE_URL=$SINK CAPFILE_USERNAME=u CAPFILE_PASSWORD=p
AUTH="u:$(printf p | md5sum | cut -d' ' -f1)"
export URL AUTH

# ---------------------------------------------------------------- the three ways
# send DIR: every file of DIR to the sink, JOBS curls at once.
send() {
    find "$1" -type f -print0 |
        xargs -0 -P "$JOBS" -I{} sh -c 'curl -sS -f -o /dev/null -u "$AUTH" -F "file=@$1" "$URL/$(basename "$1")"' _ {}
}
run_capfile() {
    "$CAPFILE" upload --no-progress -q -j "$JOBS" --fit 2048x2048 --strip-metadata --quality 85 \
        "$WORK"/photos/*.jpg >/dev/null
}
run_magick() {
    rm -rf "$WORK/magick" && cp -r "$WORK/photos" "$WORK/magick"
    find "$WORK/magick" -type f -print0 |
        xargs -0 -P "$JOBS" -n 10 env MAGICK_THREAD_LIMIT=1 mogrify -resize '2048x2048>' -strip -quality 85
    send "$WORK/magick"
}
run_vips() {
    rm -rf "$WORK/vips" && mkdir "$WORK/vips"
    find "$WORK/photos" -type f -print0 |
        xargs -0 -P "$JOBS" -n 10 vipsthumbnail --size 2048x2048 -o "$WORK/vips/%s.jpg[Q=85,strip]"
    send "$WORK/vips"
}
# Checked once, untimed: each way makes COUNT images of at most 2048 pixels a side.
run_capfile || die "capfile failed"
run_magick && run_vips || die "ImageMagick or libvips failed"
for dir in magick vips; do
    [[ $(find "$WORK/$dir" -type f | wc -l) == "$COUNT" ]] || die "$dir made the wrong number of files"
done
identify -format '%w %h\n' "$WORK/vips/photo-0001.jpg" | awk '$1 > 2048 || $2 > 2048 { exit 1 }' ||
    die "vipsthumbnail did not fit the photo"

for ((r = 1; r <= RUNS; r++)); do
    for way in capfile magick vips; do
        start=$(date +%s.%N)
        "run_$way"
        end=$(date +%s.%N)
        awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' >>"$WORK/$way.txt"
    done
    say "  round $r/$RUNS: capfile $(tail -n1 "$WORK/capfile.txt") s, ImageMagick $(tail -n1 "$WORK/magick.txt") s," \
        "libvips $(tail -n1 "$WORK/vips.txt") s"
done

stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f | %.2f | %.2f", v[1], m, v[NR] }'
}
echo "Images made to fit: $COUNT JPEG photos of 4000x3000 ($((PHOTO_BYTES / 1024)) KiB each) to 2048x2048," \
    "metadata stripped, quality 85, sent to the nginx sink, -j/-P $JOBS, $(nproc) cores, $RUNS runs each."
echo
echo "| way | min (s) | median (s) | max (s) |"
echo "|---|---:|---:|---:|"
echo "| \`capfile upload --fit 2048x2048 --strip-metadata --quality 85\` | $(stats <"$WORK/capfile.txt") |"
echo "| ImageMagick: copy, \`mogrify -resize 2048x2048> -strip -quality 85\`, curl | $(stats <"$WORK/magick.txt") |"
echo "| libvips: \`vipsthumbnail --size 2048x2048 -o %s.jpg[Q=85,strip]\`, curl | $(stats <"$WORK/vips.txt") |"
