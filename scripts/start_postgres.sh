#!/usr/bin/env bash
# Install (when missing) and start a PostgreSQL server on loopback, with a `tfnas` role and a
# `tfnas_test` database, for the shared-study tests. Idempotent; needs root (CI, a dev box).
# Prints the SQLAlchemy URL of the test database on its last line.
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
cluster=$(pg_lsclusters --no-header 2>/dev/null | head -1 || true)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_createcluster "$version" main >/dev/null
  cluster=$(pg_lsclusters --no-header | head -1)
fi
read -r version name port _ <<<"$cluster"
pg_ctlcluster "$version" "$name" start 2>/dev/null || true   # already running is fine
for _ in $(seq 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$port"
psql_su() { runuser -u postgres -- psql -p "$port" -qtA "$@"; }
psql_su -c "SELECT 1 FROM pg_roles WHERE rolname='tfnas'" | grep -q 1 \
  || psql_su -c "CREATE ROLE tfnas LOGIN PASSWORD 'tfnas'"
psql_su -c "SELECT 1 FROM pg_database WHERE datname='tfnas_test'" | grep -q 1 \
  || runuser -u postgres -- createdb -p "$port" -O tfnas tfnas_test
echo "postgresql+psycopg://tfnas:tfnas@127.0.0.1:${port}/tfnas_test"
