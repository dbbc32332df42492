# The far-link case of bench/run.sh (sourced by it; BENCH_ONLY=far runs it
# alone). Defines far_case, which prints its tables on stdout:
#
# 1. far link: FAR_COUNT images of FAR_KB KiB over TLS to nginx
#    (bench/nginx-far.conf.in), through bench/delay_proxy.py holding each
#    chunk for RTT/2 each way, at each RTT of FAR_RTTS, against a server that
#    speaks HTTP/1.1 only and one that offers HTTP/2: capfile with default
#    settings, capfile -j 8, capfile --http 2 (default jobs, h2 server only),
#    `curl --parallel --parallel-max 8` (over --http1.1, and --http2 where
#    offered); median (and min, max) wall seconds of FAR_RUNS runs, in turns.
# 2. CPU per upload: CPU_COUNT images of FAR_KB KiB straight to the same nginx
#    on loopback, plain HTTP and TLS: user+sys CPU seconds per upload, and
#    wall time, of capfile (default settings, and -j 8) and of curl
#    --parallel --parallel-max 8, median of FAR_RUNS runs.
# 3. rate limit: FAR_RATE_FILES images of 4 KiB against `capfile serve
#    --rate-limit 10/2s`: 429s provoked by default settings and by -j 8.
#
# Knobs: BENCH_FAR_COUNT=200 BENCH_FAR_KB=64 BENCH_FAR_RTTS="50 150"
# BENCH_FAR_RUNS=3 BENCH_CPU_COUNT=1000 BENCH_FAR_RATE_FILES=40.

FAR_COUNT=${BENCH_FAR_COUNT:-200}
FAR_KB=${BENCH_FAR_KB:-64}
FAR_RTTS=${BENCH_FAR_RTTS:-50 150}
FAR_RUNS=${BENCH_FAR_RUNS:-3}
CPU_COUNT=${BENCH_CPU_COUNT:-1000}
FAR_RATE_FILES=${BENCH_FAR_RATE_FILES:-40}
FAR_NGINX_PID=""
FAR_PROXY_PID=""
FAR_EMU_PID=""

# far_fmt FORMAT "min median max": the three figures, as table cells
far_fmt() { awk -v f="$1" '{ printf f " | " f " | " f, $1, $2, $3 }' <<<"$2"; }

far_cleanup() {
    local pid
    for pid in "$FAR_PROXY_PID" "$FAR_NGINX_PID"; do
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            wait "$pid" 2>/dev/null
        fi
    done
    stop_emulator "$FAR_EMU_PID"
}

# far_certs DIR: a private CA (DIR/ca.pem) and a server certificate for
# 127.0.0.1 signed by it (DIR/server.pem, DIR/server.key).
far_certs() {
    local dir=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=capfile-bench-CA -keyout "$dir/ca.key" -out "$dir/ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
        >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}

# far_nginx: starts the TLS sink; sets FAR_H1, FAR_H2 (TLS ports) and FAR_PLAIN.
far_nginx() {
    local dir=$WORK/far-nginx user_line="" attempt answer
    mkdir -p "$dir"
    far_certs "$dir"
    ((EUID == 0)) && user_line="user root;"
    for attempt in 1 2 3 4 5; do
        FAR_H1=$(pick_port) FAR_H2=$(pick_port) answer=$(pick_port) FAR_PLAIN=$(pick_port)
        [[ $(printf '%s\n' "$FAR_H1" "$FAR_H2" "$answer" "$FAR_PLAIN" | sort -u | wc -l) == 4 ]] || continue
        sed -e "s|@WORK@|$dir|g" -e "s|@USER@|$user_line|" -e "s|@H1_PORT@|$FAR_H1|g" \
            -e "s|@H2_PORT@|$FAR_H2|g" -e "s|@ANSWER_PORT@|$answer|g" -e "s|@PLAIN_PORT@|$FAR_PLAIN|g" \
            "$REPO/bench/nginx-far.conf.in" >"$dir/nginx.conf"
        "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' </dev/null >&2 &
        FAR_NGINX_PID=$!
        if wait_for_port "$FAR_H1" "$FAR_NGINX_PID" && wait_for_port "$FAR_H2" "$FAR_NGINX_PID" &&
            wait_for_port "$FAR_PLAIN" "$FAR_NGINX_PID"; then
            return
        fi
        kill "$FAR_NGINX_PID" 2>/dev/null || true
        wait "$FAR_NGINX_PID" 2>/dev/null || true
        FAR_NGINX_PID=""
        say "nginx (TLS) did not start (attempt $attempt): $(tail -n 3 "$dir/error.log" 2>/dev/null)"
    done
    die "cannot start nginx (TLS)"
}

# far_proxy TARGET_PORT RTT_MS: starts the delay proxy on a port it picks;
# sets FAR_PROXY.
far_proxy() {
    : >"$WORK/far-proxy.out"
    python3 "$REPO/bench/delay_proxy.py" --listen 127.0.0.1:0 --to "127.0.0.1:$1" --rtt-ms "$2" \
        >"$WORK/far-proxy.out" 2>"$WORK/far-proxy.log" &
    FAR_PROXY_PID=$!
    FAR_PROXY=""
    for _ in $(seq 100); do
        FAR_PROXY=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$WORK/far-proxy.out")
        [[ -z $FAR_PROXY ]] || return 0
        kill -0 "$FAR_PROXY_PID" 2>/dev/null || break
        sleep 0.1
    done
    die "the delay proxy did not start: $(cat "$WORK/far-proxy.log")"
}

far_proxy_stop() {
    kill -TERM "$FAR_PROXY_PID" 2>/dev/null || true
    wait "$FAR_PROXY_PID" 2>/dev/null || true
    FAR_PROXY_PID=""
}

# far_curl_config FILE BASE DIR VERSION: a curl config with one transfer per
# image in DIR (each with its own options: `next` resets them).
far_curl_config() {
    local file=$1 base=$2 dir=$3 version=$4 auth f
    auth="u:$(printf p | md5sum | cut -d' ' -f1)"
    : >"$file"
    local sep=""
    for f in "$dir"/*.png; do
        printf '%surl = "%s/api_gateway/file-service/rewards/%s"\nform = "file=@%s"\nuser = "%s"\noutput = "/dev/null"\nsilent\nshow-error\nfail\ncacert = "%s"\n%s\n' \
            "$sep" "$base" "${f##*/}" "$f" "$auth" "$WORK/far-nginx/ca.pem" "$version" >>"$file"
        sep=$'next\n'
    done
}

# far_time NAME COMMAND...: runs COMMAND once; appends "wall cpu" (seconds;
# cpu is user+sys) to $WORK/far/NAME.txt. A failure stops the bench.
far_time() {
    local name=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$WORK/far/time.txt" "$@" >/dev/null 2>"$WORK/far/$name.err" ||
        die "$name failed: $(tail -n 3 "$WORK/far/$name.err")"
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$WORK/far/time.txt" >>"$WORK/far/$name.txt"
}

# far_stats NAME COLUMN: "min median max" of one column of $WORK/far/NAME.txt
far_stats() {
    awk -v c="$2" '{ print $c }' "$WORK/far/$1.txt" | stats
}

# far_link RTT: the far-link runs at one RTT, in turns; rows on stdout.
far_link() {
    local rtt=$1 server port r tools tool
    for server in h1 h2; do
        port=$FAR_H1
        [[ $server == h2 ]] && port=$FAR_H2
        far_proxy "$port" "$rtt"
        local base=https://127.0.0.1:$FAR_PROXY
        far_curl_config "$WORK/far/curl-h1.cfg" "$base" "$WORK/far/img" http1.1
        far_curl_config "$WORK/far/curl-h2.cfg" "$base" "$WORK/far/img" http2
        tools=(default j8 curl-h1)
        [[ $server == h2 ]] && tools+=(http2 curl-h2)
        for ((r = 1; r <= FAR_RUNS; r++)); do
            for tool in "${tools[@]}"; do
                local name=far-$rtt-$server-$tool
                case $tool in
                default) far_time "$name" env CAPFILE_BASE_URL="$base" "${FAR_UP[@]}" -- "$WORK"/far/img/*.png ;;
                j8) far_time "$name" env CAPFILE_BASE_URL="$base" "${FAR_UP[@]}" -j 8 -- "$WORK"/far/img/*.png ;;
                http2) far_time "$name" env CAPFILE_BASE_URL="$base" "${FAR_UP[@]}" --http 2 -- "$WORK"/far/img/*.png ;;
                curl-h1) far_time "$name" curl --parallel --parallel-max 8 -K "$WORK/far/curl-h1.cfg" ;;
                curl-h2) far_time "$name" curl --parallel --parallel-max 8 -K "$WORK/far/curl-h2.cfg" ;;
                esac
            done
            say "  $rtt ms, $server server, round $r/$FAR_RUNS: $(for tool in "${tools[@]}"; do
                printf '%s %s s; ' "$tool" "$(awk 'END { print $1 }' "$WORK/far/far-$rtt-$server-$tool.txt")"
            done)"
        done
        far_proxy_stop
        for tool in "${tools[@]}"; do
            local label
            case $tool in
            default) label="\`capfile upload\` (default: -j auto, --http auto)" ;;
            j8) label="\`capfile upload -j 8\`" ;;
            http2) label="\`capfile upload --http 2\`" ;;
            curl-h1) label="\`curl --parallel --parallel-max 8 --http1.1\`" ;;
            curl-h2) label="\`curl --parallel --parallel-max 8 --http2\`" ;;
            esac
            echo "| $rtt ms | $server | $label | $(far_fmt %.2f "$(far_stats "far-$rtt-$server-$tool" 1)") |"
        done
    done
}

# far_cpu: CPU per upload on loopback, plain and TLS; rows on stdout.
far_cpu() {
    local scheme port base r tool tools=(default j8 curl)
    for scheme in http https; do
        port=$FAR_PLAIN
        [[ $scheme == https ]] && port=$FAR_H1
        base=$scheme://127.0.0.1:$port
        far_curl_config "$WORK/far/curl-cpu.cfg" "$base" "$WORK/far/cpu" http1.1
        for ((r = 1; r <= FAR_RUNS; r++)); do
            for tool in "${tools[@]}"; do
                case $tool in
                default) far_time "cpu-$scheme-$tool" env CAPFILE_BASE_URL="$base" "${FAR_UP[@]}" -- "$WORK"/far/cpu/*.png ;;
                j8) far_time "cpu-$scheme-$tool" env CAPFILE_BASE_URL="$base" "${FAR_UP[@]}" -j 8 -- "$WORK"/far/cpu/*.png ;;
                curl) far_time "cpu-$scheme-$tool" curl --parallel --parallel-max 8 -K "$WORK/far/curl-cpu.cfg" ;;
                esac
            done
        done
        for tool in "${tools[@]}"; do
            local label
            case $tool in
            default) label="\`capfile upload\` (default)" ;;
            j8) label="\`capfile upload -j 8\`" ;;
            curl) label="\`curl --parallel --parallel-max 8\`" ;;
            esac
            echo "| $scheme | $label | $(far_fmt %.2f "$(far_stats "cpu-$scheme-$tool" 1)") |" \
                "$(awk -v n="$CPU_COUNT" '{ printf "%.0f", $2 * 1e6 / n }' <<<"$(far_stats "cpu-$scheme-$tool" 2)") |"
        done
        say "  CPU per upload over $scheme: done"
    done
}

# far_rate NAME ARGS...: one batch of FAR_RATE_FILES images against a fresh
# `capfile serve --rate-limit 10/2s`; appends the 429s it provoked.
far_rate() {
    local name=$1 port limited
    shift
    port=$(pick_port)
    "$CAPFILE" serve --addr "127.0.0.1:$port" --data "$WORK/far/rate-emu" --rate-limit 10/2s \
        </dev/null 2>"$WORK/far/rate-emu.log" &
    FAR_EMU_PID=$!
    wait_for_port "$port" "$FAR_EMU_PID" || die "the rate-limited emulator did not start"
    CAPFILE_BASE_URL=http://127.0.0.1:$port CAPFILE_USERNAME=capfile CAPFILE_PASSWORD=capfile \
        "$CAPFILE" upload --no-progress "$@" -- "$WORK"/far/rate/*.png >/dev/null 2>"$WORK/far/rate-$name.err" ||
        die "capfile upload $* failed against the rate limit: $(tail -n 3 "$WORK/far/rate-$name.err")"
    stop_emulator "$FAR_EMU_PID"
    FAR_EMU_PID=""
    limited=$(sed -n 's/^rate limit: the service answered 429 \([0-9]*\) time.*/\1/p' "$WORK/far/rate-$name.err")
    echo "${limited:-0}" >>"$WORK/far/rate-$name.txt"
}

far_case() {
    local i r rtt
    mkdir -p "$WORK/far/img" "$WORK/far/cpu" "$WORK/far/rate"
    for ((i = 1; i <= FAR_COUNT; i++)); do
        png "$(printf '%s/far/img/img-%05d.png' "$WORK" "$i")" $((FAR_KB * 1024))
    done
    for ((i = 1; i <= CPU_COUNT; i++)); do
        png "$(printf '%s/far/cpu/img-%05d.png' "$WORK" "$i")" $((FAR_KB * 1024))
    done
    for ((i = 1; i <= FAR_RATE_FILES; i++)); do
        png "$(printf '%s/far/rate/img-%05d.png' "$WORK" "$i")" 4096
    done
    far_nginx
    FAR_UP=(env CAPFILE_USERNAME=u CAPFILE_PASSWORD=p CAPFILE_CA_BUNDLE="$WORK/far-nginx/ca.pem"
        "$CAPFILE" upload --no-progress -q)
    # A wrong answer must fail loudly before anything is timed.
    local answer
    answer=$(env CAPFILE_BASE_URL="https://127.0.0.1:$FAR_H2" "${FAR_UP[@]}" "$WORK/far/img/img-00001.png") ||
        die "capfile could not upload to the TLS sink"
    [[ $answer == *http://127.0.0.1/bench.png* ]] || die "capfile printed: $answer"

    echo "Far link: $FAR_COUNT images of $FAR_KB KiB over TLS to nginx through bench/delay_proxy.py (each chunk held RTT/2 each way); wall seconds, $FAR_RUNS runs in turns."
    echo
    echo "| RTT | server | tool | min | median | max |"
    echo "|---|---|---|---:|---:|---:|"
    for rtt in $FAR_RTTS; do
        say "far link, $rtt ms"
        far_link "$rtt"
    done
    echo
    echo "CPU per upload: $CPU_COUNT images of $FAR_KB KiB straight to the same nginx on loopback (HTTP/1.1), $FAR_RUNS runs in turns."
    echo
    echo "| scheme | tool | wall min (s) | median | max | CPU per upload, median (µs user+sys) |"
    echo "|---|---|---:|---:|---:|---:|"
    far_cpu
    echo
    for ((r = 1; r <= FAR_RUNS; r++)); do
        far_rate default
        far_rate j8 -j 8
    done
    echo "Rate limit: $FAR_RATE_FILES images of 4 KiB against \`capfile serve --rate-limit 10/2s\`: 429s provoked (min median max of $FAR_RUNS runs): default settings $(stats <"$WORK/far/rate-default.txt"); \`-j 8\` $(stats <"$WORK/far/rate-j8.txt")."
    echo
    far_cleanup
}
