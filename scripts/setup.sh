#!/usr/bin/env bash
# Everything a fresh machine needs, installed only if missing, so a second run costs well under a second:
#   1. system packages (apt): Graphviz's `dot`, the Fashion-MNIST files, and Python's venv module;
#   2. a project-local virtual environment, .venv/, holding this project with its dev extra.
# Nothing is ever installed into the system Python: on Debian/Ubuntu it is "externally managed" (PEP 668)
# and often has no pip at all. The project is (re)installed only when pyproject.toml is newer than the
# stamp file .venv/.installed. `setup.sh notebook` also installs the Jupyter extra (for `make notebook`).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}  # only used to create .venv
VENV=.venv
STAMP=$VENV/.installed
extras=dev
[ "${1:-}" = notebook ] && extras=dev,notebook

say() { echo "setup: $*"; }

# -- 1. system packages -----------------------------------------------------------------------------
apt_packages=()
command -v "$PYTHON" >/dev/null 2>&1 || apt_packages+=(python3)
command -v dot >/dev/null 2>&1 || apt_packages+=(graphviz)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || apt_packages+=(dataset-fashion-mnist)
if [ ! -x "$VENV/bin/python" ] && ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  # Debian and Ubuntu split venv (and the pip wheel it bootstraps) out of the interpreter package.
  apt_packages+=(python3-venv)
  if version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null); then
    apt_packages+=("python${version}-venv")
  fi
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${apt_packages[*]} and there is no apt-get here: install them with your package manager" >&2
    exit 1
  fi
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  say "installing ${apt_packages[*]} with apt-get"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# -- 2. the project's own environment ---------------------------------------------------------------
if ! "$VENV/bin/python" -c "import sys" >/dev/null 2>&1; then
  say "creating $VENV with $(command -v "$PYTHON") ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
want_notebook=0
[ "$extras" = dev,notebook ] && ! "$VENV/bin/python" -c "import jupyterlab" >/dev/null 2>&1 && want_notebook=1
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ $want_notebook -eq 1 ]; then
  say "installing backproplab[$extras] into $VENV (once; again only when pyproject.toml changes)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
  touch "$STAMP"
fi
