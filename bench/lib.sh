# What bench/run.sh and bench/fit.sh share (sourced by both): messages,
# installing the tools a case lacks, and building the capfile it measures.

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# install_missing PACKAGE...: installs them with apt-get (through sudo when not
# root). A package's own nginx service, started by the install on port 80, is
# stopped and disabled: the bench runs its own nginx.
install_missing() {
    (($#)) || return 0
    command -v apt-get >/dev/null || die "missing $*, and no apt-get to install them with"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "missing $*; run as root or install them"
        sudo=(sudo)
    fi
    say "installing $*"
    "${sudo[@]}" apt-get update -qq >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
    if [[ " $* " == *" nginx "* ]] && command -v systemctl >/dev/null &&
        systemctl is-active --quiet nginx 2>/dev/null; then
        say "stopping and disabling the nginx service the package started"
        "${sudo[@]}" systemctl disable --now nginx >&2 || true
    fi
}

# build_capfile: sets CAPFILE to BENCH_CAPFILE, or to a release build of the
# repository at REPO.
build_capfile() {
    if [[ -n ${BENCH_CAPFILE:-} ]]; then
        CAPFILE=$(realpath "$BENCH_CAPFILE")
    else
        say "building capfile (cargo build --release)"
        (cd "$REPO" && cargo build --release --quiet) >&2
        local target=${CARGO_TARGET_DIR:-target}
        [[ $target == /* ]] || target=$REPO/$target
        CAPFILE=$target/release/capfile
    fi
    [[ -x $CAPFILE ]] || die "no capfile binary at $CAPFILE"
}
