#!/usr/bin/env bash
# Sets up everything GenStudio needs, idempotently: the system libraries Qt needs (Debian/Ubuntu),
# a virtual environment in .venv with a CPU build of PyTorch, and GenStudio with its test extras.
# Re-running it when nothing changed takes a second or two.
#   GENSTUDIO_TORCH   the torch requirement to install when none is present (default: torch==2.13.0)
#   GENSTUDIO_PYTHON  the interpreter to build .venv from (default: python3.11, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."

# -- system libraries Qt's xcb / offscreen platforms load (skip what is there already) --------------
qt_libs="libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
         libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
         libxcb-render-util0 libxcb-image0 xvfb xauth"
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $qt_libs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  py=${GENSTUDIO_PYTHON:-$(command -v python3.11 || command -v python3)}
  "$py" -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$missing python3-venv"
  if [ -n "$missing" ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "setup: installing system packages:$missing"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null \
      || echo "setup: warning: could not install$missing (the app may not start; tests run offscreen)" >&2
  fi
fi

# -- virtual environment -------------------------------------------------------------------------
py=${GENSTUDIO_PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$py" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch first, so the loose torch range in pyproject.toml never pulls a multi-GB CUDA build
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  echo "setup: installing ${GENSTUDIO_TORCH:-torch==2.13.0}"
  "${pip[@]}" install "${GENSTUDIO_TORCH:-torch==2.13.0}"
fi

# GenStudio itself (editable) with its test extras; skipped when pyproject.toml is unchanged
stamp=.venv/.genstudio-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c "import genstudio" >/dev/null 2>&1; then
  echo "setup: installing GenStudio and its dependencies into .venv"
  "${pip[@]}" install -e ".[test]"
  echo "$want" > "$stamp"
fi
