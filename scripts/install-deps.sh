#!/usr/bin/env bash
# Installs, from Debian's packages, whatever Kiln's build, tests and benchmarks need and the
# machine lacks. Idempotent: when everything is present it does nothing and says nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl openssl
  libprotobuf-dev protobuf-compiler libsnappy-dev libre2-dev libsqlite3-dev
  libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  prometheus-cpp-dev libcpp-httplib-dev libssl-dev zlib1g-dev libcrypt-dev
  clang-format
  # The reference implementation and real peers for tests and benchmarks.
  prometheus prometheus-alertmanager prometheus-node-exporter
  python3 python3-yaml python3-snappy time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The prometheus packages ship services; policy-rc.d keeps apt from starting them, since the
# tests start their own instances on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
