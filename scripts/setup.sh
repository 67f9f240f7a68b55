#!/usr/bin/env bash
# Everything a fresh machine needs: Graphviz's `dot`, the Fashion-MNIST files, and this project with
# its dev tools. Safe to run again: it installs only what is missing (apt) and reinstalls the project.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v dot >/dev/null 2>&1 || apt_packages+=(graphviz)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || apt_packages+=(dataset-fashion-mnist)
if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing ${apt_packages[*]} with apt-get"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"
