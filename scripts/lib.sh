# Shared helpers for scripts/test, scripts/demo and scripts/make-demo-db.
# Source it from the repository root: . scripts/lib.sh

VENV=.venv
REQUIREMENTS=tests/requirements.txt

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_debian_packages PKG...: install the Debian packages that are missing
# (apt-get update + install, only when something is missing; as root or via sudo).
ensure_debian_packages() {
    command -v dpkg-query >/dev/null 2>&1 || die "not a Debian system: install $* by hand"
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "missing Debian packages ${missing[*]} and not root (no sudo)"
        sudo=(sudo)
    fi
    step "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ensure_venv: .venv with tests/requirements.txt installed; reinstalled when
# the requirements file changes or the venv no longer runs.
ensure_venv() {
    if ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
        step "creating virtualenv $VENV"
        rm -rf "$VENV"
        python3 -m venv "$VENV"
    fi
    local want have=""
    want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    [ -f "$VENV/.requirements.sha256" ] && have=$(cat "$VENV/.requirements.sha256")
    if [ "$want" != "$have" ]; then
        step "installing $REQUIREMENTS into $VENV"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"
        echo "$want" >"$VENV/.requirements.sha256"
    fi
}

# fill_template SRC DST NAME=VALUE...: replace @NAME@ markers.
fill_template() {
    local src=$1 dst=$2 expr=() kv
    shift 2
    for kv in "$@"; do
        expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
    done
    sed "${expr[@]}" "$src" >"$dst"
}
