#!/usr/bin/env bash
# Create the project's virtualenv with Python 3.11 (or the newest python3 available), and
# install Debian's venv support first when it is missing and we are allowed to.
set -euo pipefail
venv=${1:-.venv}
python=$(command -v python3.11 || command -v python3 || true)
if [ -z "$python" ]; then
    echo "Python 3.11 is needed: sudo apt-get install -y python3 python3-venv" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is needed; $python is $("$python" --version)" >&2
    exit 1
fi
if [ -x "$venv/bin/python" ]; then
    exit 0
fi
if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    # Debian and Ubuntu ship venv support separately from the interpreter.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        pkg="python3-venv"
        version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" "python$version-venv" \
            || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg"; }
        "$python" -m venv "$venv"
    else
        echo "Python's venv module is missing. Install it with: sudo apt-get install -y python3-venv" >&2
        exit 1
    fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
