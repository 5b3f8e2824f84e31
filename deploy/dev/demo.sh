#!/usr/bin/env bash
# make demo: the whole connector on this machine. Starts the Temporal dev server (7233, UI 8233),
# the Salesforce and Jira emulators (8410, 8420) and the worker (8090); backfills the sample
# Opportunities into Jira Epics; edits one Opportunity in Salesforce and shows its Epic follow;
# checks every pair. With DEMO_ONCE=1 it exits (0 only if every Epic matches its Opportunity) and
# stops everything it started; otherwise it keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/bin
STATE=$ROOT/.demo
mkdir -p "$STATE"

export SFJIRA_CONFIG=$ROOT/deploy/dev/sfjira.yaml
export SFJIRA_SF_CLIENT_SECRET=sfjira-demo-secret   # demo credentials of the emulators only
export SFJIRA_JIRA_API_TOKEN=sfjira-demo-token
# The demo keeps its own database so it never touches a real sfjira database on the same server.
DEMO_DB_NAME=sfjira_demo
export DATABASE_URL=${DEMO_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$DEMO_DB_NAME?sslmode=disable}
SF=http://127.0.0.1:8410
JIRA=http://127.0.0.1:8420
UI=http://localhost:8233
SEED=${DEMO_OPPORTUNITIES:-20}

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

for port in 7233 8233 8410 8420 8090; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    die "port $port is in use (fix: stop the earlier demo or whatever listens there: ss -ltnp 'sport = :$port')"
  fi
done

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  if [ ${#PIDS[@]} -gt 0 ]; then
    echo; echo "stopping demo processes…"
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # url name log
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "--- last lines of $3:"; tail -20 "$3" >&2 || true
  die "$2 did not come up at $1"
}

bold "Resetting the demo database ($DEMO_DB_NAME: the emulators start empty, so old links would dangle)"
"$BIN/sfjira-dbcheck" -reset

bold "Starting the Temporal dev server (gRPC 127.0.0.1:7233, UI $UI)"
SA=()
for a in SfObjectType SfRecordId JiraIssueKey JiraProject SyncDirection SyncOutcome SyncTrigger ErrorCode; do
  SA+=(--search-attribute "$a=Keyword")
done
"$BIN/temporal" server start-dev --ip 127.0.0.1 --port 7233 --ui-port 8233 --log-level error "${SA[@]}" \
  >"$STATE/temporal.log" 2>&1 &
PIDS+=($!)
wait_for "$UI" "Temporal UI" "$STATE/temporal.log"

bold "Starting the Salesforce and Jira emulators ($SEED sample Opportunities)"
"$BIN/sfjira" emulate --seed-opportunities "$SEED" >"$STATE/emulators.log" 2>&1 &
PIDS+=($!)
wait_for "$SF/__admin/stats" "Salesforce emulator" "$STATE/emulators.log"
wait_for "$JIRA/__admin/stats" "Jira emulator" "$STATE/emulators.log"

bold "sfjira setup (database migrations, search attributes)"
"$BIN/sfjira" setup

bold "Starting the worker (logs: .demo/worker.log)"
"$BIN/sfjira-worker" >"$STATE/worker.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:8090/readyz" "worker" "$STATE/worker.log"

bold "Backfill: every Opportunity → a Jira Epic"
"$BIN/sfjira" backfill --object Opportunity --wait

bold "Editing one Opportunity in Salesforce (REST PATCH, as a sales rep's edit would)"
TOKEN=$(curl -fsS "$SF/services/oauth2/token" -d grant_type=client_credentials -d client_id=sfjira-demo \
  -d client_secret="$SFJIRA_SF_CLIENT_SECRET" | sed -E 's/.*"access_token" *: *"([^"]+)".*/\1/')
Q="SELECT Id, Name, StageName, Amount, Jira_Issue_Key__c FROM Opportunity WHERE StageName = 'Prospecting' ORDER BY Name LIMIT 1"
ROW=$(curl -fsS -G "$SF/services/data/v62.0/query" -H "Authorization: Bearer $TOKEN" --data-urlencode "q=$Q")
OPP=$(sed -E 's/.*"Id" *: *"([^"]+)".*/\1/' <<<"$ROW")
KEY=$(sed -E 's/.*"Jira_Issue_Key__c" *: *"([^"]+)".*/\1/' <<<"$ROW")
NAME=$(sed -E 's/.*"Name" *: *"([^"]+)".*/\1/' <<<"$ROW")
echo "Opportunity $OPP \"$NAME\" (Epic $KEY): StageName Prospecting → Closed Won, Amount → 250000"
curl -fsS -X PATCH "$SF/services/data/v62.0/sobjects/Opportunity/$OPP" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"StageName":"Closed Won","Amount":250000}'

bold "Sync that Opportunity (sfjira sync --sf Opportunity/$OPP --wait)"
"$BIN/sfjira" sync --sf "Opportunity/$OPP" --wait
echo "The Epic in Jira now:"
curl -fsS -u "integration@sfjira.demo:$SFJIRA_JIRA_API_TOKEN" "$JIRA/rest/api/3/issue/$KEY?fields=summary,status,resolution" |
  sed -E 's/.*"summary" *: *"([^"]*)".*/  summary:    \1/' ; echo
curl -fsS -u "integration@sfjira.demo:$SFJIRA_JIRA_API_TOKEN" "$JIRA/rest/api/3/issue/$KEY?fields=status,resolution" |
  grep -oE '"(status|resolution)" *: *\{[^{]*"name" *: *"[^"]*"' | sed -E 's/"(status|resolution)".*"name" *: *"([^"]*)"/  \1: \2/'

bold "Sync it again: nothing changed, so nothing is written"
"$BIN/sfjira" sync --sf "Opportunity/$OPP" --wait

bold "Verify: every Opportunity has exactly one matching, back-linked Epic"
set +e
"$BIN/sfjira" verify --object Opportunity
VERIFY=$?
set -e

bold "API calls made (emulator /__admin/stats)"
echo "Salesforce: $(curl -fsS "$SF/__admin/stats" | grep -oE '"total" *: *[0-9]+' | grep -oE '[0-9]+') calls;" \
  "Jira: $(curl -fsS "$JIRA/__admin/stats" | grep -oE '"total" *: *[0-9]+' | grep -oE '[0-9]+') calls"

bold "Where to look"
cat <<TXT
  Temporal UI, every Opportunity sync:  $UI/namespaces/default/workflows?query=SfObjectType%3D%22Opportunity%22
  the edited record's runs:             $UI/namespaces/default/workflows?query=SfRecordId%3D%22$OPP%22
  Jira emulator issues:                 $JIRA/__admin/issues
  API call counts:                      $SF/__admin/stats  and  $JIRA/__admin/stats
  logs:                                 .demo/worker.log  .demo/temporal.log  .demo/emulators.log
TXT

if [ "${DEMO_ONCE:-}" = "1" ]; then
  if [ $VERIFY -eq 0 ]; then echo; echo "DEMO OK: every Epic matches its Opportunity"; else echo; echo "DEMO FAILED: see the verify report above"; fi
  exit $VERIFY
fi
echo; echo "Running. Press Ctrl-C to stop everything."
wait
