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

# ensure_venv [DIR REQUIREMENTS]: a virtualenv (default $VENV with
# $REQUIREMENTS) with the requirements installed; reinstalled when the
# requirements file changes or the venv no longer runs.
ensure_venv() {
    local venv=${1:-$VENV} requirements=${2:-$REQUIREMENTS}
    if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
        step "creating virtualenv $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    local want have=""
    want=$(sha256sum "$requirements" | cut -d' ' -f1)
    [ -f "$venv/.requirements.sha256" ] && have=$(cat "$venv/.requirements.sha256")
    if [ "$want" != "$have" ]; then
        step "installing $requirements into $venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
        echo "$want" >"$venv/.requirements.sha256"
    fi
}

# ensure_django_venvs: one venv per Django LTS the conformance tests ask
# (.venv-django42, .venv-django52; tests/requirements-django42.txt, -52.txt).
DJANGO_TAGS=(42 52)
ensure_django_venvs() {
    local tag
    for tag in "${DJANGO_TAGS[@]}"; do
        ensure_venv ".venv-django$tag" "tests/requirements-django$tag.txt"
    done
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
