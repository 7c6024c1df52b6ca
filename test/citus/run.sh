#!/usr/bin/env bash
# npm run test:citus — the API on a three-node Citus cluster (issue 21, README "Scale out
# on Citus"): installs Citus if missing and starts the cluster through ../shared/citus/
# (beside this repository's folder), makes a database on every node, runs the migrations,
# the cluster checks (test/citus/checks.ts: catalog, one-task plans, worker RLS), then the
# e2e suite against the coordinator; the database and the cluster go at the end.
# CITUS_E2E="test/x.e2e-spec.ts ..." narrows the e2e run; the shard move runs alone, last.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=$(cd "${WORKLANE_SHARED:-../shared}" && pwd)
started=$(date +%s)
bash "$shared/citus/install.sh"
db="worklane_citus_$(date +%s)"
bash "$shared/citus/cluster.sh" up "$db"
finish() {
  for port in 5440 5441 5442; do
    psql -h 127.0.0.1 -p "$port" -U postgres -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  done
  bash "$shared/citus/cluster.sh" down
  echo "test:citus took $(($(date +%s) - started)) s"
}
trap finish EXIT
url="postgres://postgres@127.0.0.1:5440/$db"
npx ts-node -T test/citus/migrate.ts "$url"
npx ts-node -T test/citus/checks.ts "$url"
export WORKLANE_TEST_CITUS=1 WORKLANE_TEST_DATABASE_URL="$url"
# The shard move runs alone, after the rest: the split stops writes to the whole colocated
# shard range for a moment, which other suites' requests would meet.
status=0
# shellcheck disable=SC2086
npx jest --config jest.config.js ${CITUS_E2E:-test} --testPathIgnorePatterns /node_modules/ shard-move || status=$?
npx jest --config jest.config.js test/citus/shard-move.e2e-spec.ts || status=$?
exit $status
