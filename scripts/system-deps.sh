#!/usr/bin/env bash
# Installs and starts the system parts the full test suite uses (Debian/Ubuntu, as root):
# PostgreSQL (running, with a database "test"), headless Chromium for the dashboard tests,
# and Prometheus/promtool and Alertmanager for the interoperability tests.
set -euo pipefail

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing system packages: $* (install them with your package manager)" >&2
    return 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v pg_ctlcluster >/dev/null || command -v pg_isready >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt_install "${need[@]}"
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 60); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
fi
pg_isready -h 127.0.0.1 -p 5432

psql_admin() { psql -h 127.0.0.1 -U postgres "$@" 2>/dev/null || su postgres -c "psql $(printf '%q ' "$@")"; }
if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1; then
  psql_admin -d postgres -c "CREATE DATABASE test"
fi
echo "system parts ready"
