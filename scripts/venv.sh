#!/usr/bin/env bash
# Create .venv with Python 3.11 if it is missing and install a requirements file into it.
# Usage: scripts/venv.sh requirements.txt|requirements-dev.txt
# The install is skipped while the requirements files are unchanged since the last one (a stamp in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

requirements="${1:-requirements.txt}"
venv=.venv

pick_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then echo "$candidate"; return; fi
    done
    echo "ERROR: no python3 found; install Python 3.11 (Debian: apt-get install -y python3 python3-venv)." >&2
    exit 1
}

venv_works() {
    [ -x "$venv/bin/python" ] && "$venv/bin/python" -m pip --version >/dev/null 2>&1
}

create_venv() {
    local python="$1"
    rm -rf "$venv"
    "$python" -m venv "$venv" && venv_works
}

if ! venv_works; then
    python="$(pick_python)"
    version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    if [ "$version" != "3.11" ]; then
        echo "WARNING: $python is Python $version; chatops is built and tested on Python 3.11." >&2
    fi
    echo "Creating $venv with $python (Python $version)..."
    if ! create_venv "$python"; then
        # Debian ships venv's pip bootstrap (ensurepip) in a separate package.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "python -m venv failed (ensurepip missing?); installing python3-venv with apt-get..."
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${version}-venv" \
                || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            create_venv "$python" || { echo "ERROR: $python -m venv still fails after installing python3-venv." >&2; exit 1; }
        else
            rm -rf "$venv"
            echo "ERROR: '$python -m venv $venv' failed. Install venv support and run again:" >&2
            echo "    sudo apt-get install python3-venv    (Debian/Ubuntu; python${version}-venv on some releases)" >&2
            exit 1
        fi
    fi
fi

# requirements-dev.txt includes requirements.txt, so both are part of the stamp.
stamp="$venv/.installed-$(basename "$requirements")"
digest="$(cat "$requirements" requirements.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    echo "Installing $requirements into $venv..."
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
    echo "$digest" > "$stamp"
fi
