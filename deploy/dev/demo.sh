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
export SFJIRA_JIRA_WEBHOOK_SECRET=sfjira-demo-webhook-secret
# Payloads in Temporal are encrypted (AES-256-GCM); a fresh demo key each run, as the dev server
# keeps no history between runs. The UI decodes through the worker's /codec endpoint.
export SFJIRA_KEYRING=${SFJIRA_KEYRING:-demo:$(head -c 32 /dev/urandom | base64)}
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
  --ui-codec-endpoint http://127.0.0.1:8090/codec \
  >"$STATE/temporal.log" 2>&1 &
PIDS+=($!)
wait_for "$UI" "Temporal UI" "$STATE/temporal.log"

bold "Starting the Salesforce and Jira emulators ($SEED sample Opportunities)"
"$BIN/sfjira" emulate --seed-opportunities "$SEED" >"$STATE/emulators.log" 2>&1 &
PIDS+=($!)
wait_for "$SF/__admin/stats" "Salesforce emulator" "$STATE/emulators.log"
wait_for "$JIRA/__admin/stats" "Jira emulator" "$STATE/emulators.log"

bold "Salesforce Outbound Message for Opportunity changes → the worker (in a real org: Setup → Outbound Messages)"
for obj in Opportunity Case Feature_Request__c; do
  curl -fsS -X POST "$SF/__admin/outbound" -H 'Content-Type: application/json' \
    -d '{"object":"'"$obj"'","url":"http://127.0.0.1:8090/webhooks/salesforce","fields":["Id","Jira_Issue_Id__c"]}' >/dev/null && echo "configured for $obj"
done

bold "sfjira setup (database migrations, search attributes, Jira webhook, change pollers)"
"$BIN/sfjira" setup

bold "Starting the worker (logs: .demo/worker.log)"
"$BIN/sfjira-worker" >"$STATE/worker.log" 2>&1 &
PIDS+=($!)
wait_for "http://127.0.0.1:8090/readyz" "worker" "$STATE/worker.log"

bold "Backfill: every Opportunity → a Jira Epic"
"$BIN/sfjira" backfill --object Opportunity --wait

bold "Backfill the rest of the default pack: Feature Requests → Stories under their Epic, Cases → Bugs"
"$BIN/sfjira" backfill --object Feature_Request__c --wait
"$BIN/sfjira" backfill --object Case --wait

TOKEN=$(curl -fsS "$SF/services/oauth2/token" -d grant_type=client_credentials -d client_id=sfjira-demo \
  -d client_secret="$SFJIRA_SF_CLIENT_SECRET" | sed -E 's/.*"access_token" *: *"([^"]+)".*/\1/')
JAUTH="integration@sfjira.demo:$SFJIRA_JIRA_API_TOKEN"
sfq() { curl -fsS -G "$SF/services/data/v62.0/query" -H "Authorization: Bearer $TOKEN" --data-urlencode "q=$1"; }
sfpatch() { curl -fsS -X PATCH "$SF/services/data/v62.0/sobjects/Opportunity/$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2"; }
jfield() { curl -fsS -u "$JAUTH" "$JIRA/rest/api/3/issue/$1?fields=$2"; }
# js EXPR — evaluates EXPR with `o` bound to the JSON document on stdin (Node.js is required by
# the emulator conformance tests anyway).
js() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);const v=eval(process.argv[1]);console.log(v==null?"":v)})' "$1"; }
# wait_until DESCRIPTION COMMAND… — retries a check for up to 30 s, printing how long it took.
wait_until() {
  local what=$1; shift
  local start=$(date +%s%N)
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then
      echo "  ✓ $what ($(( ($(date +%s%N) - start) / 1000000 )) ms)"; return 0
    fi
    sleep 0.2
  done
  echo "  ✗ $what: not seen within 30 s" >&2; FAILED=1; return 1
}
FAILED=0

ROW=$(sfq "SELECT Id, Name, Jira_Issue_Key__c FROM Opportunity WHERE StageName = 'Prospecting' ORDER BY Name LIMIT 1")
OPP=$(js 'o.records[0].Id' <<<"$ROW"); KEY=$(js 'o.records[0].Jira_Issue_Key__c' <<<"$ROW"); NAME=$(js 'o.records[0].Name' <<<"$ROW")

bold "Salesforce → Jira in real time: a rep closes \"$NAME\" ($OPP, Epic $KEY) as won"
sfpatch "$OPP" '{"StageName":"Closed Won","Amount":250000}'
epic_done() { [ "$(jfield "$KEY" status,resolution | js 'o.fields.status.name+"/"+(o.fields.resolution||{}).name')" = "Done/Done" ]; }
wait_until "Epic $KEY walked To Do → In Progress → Done, resolution Done (Outbound Message → worker)" epic_done
# The mapping's trigger won-deal-delivery: a deal over 100,000 became Closed Won, so its Epic gets a
# Jira release (as fix version) and three delivery Stories, once (retries and replays create nothing).
jsearch() { curl -fsS -G -u "$JAUTH" "$JIRA/rest/api/3/search/jql" --data-urlencode "jql=$1" --data-urlencode "fields=summary"; }
triggered() { [ "$(jsearch "parent = $KEY AND issue.property[sfjira_trigger].trigger = \"won-deal-delivery\"" | js 'o.issues.length')" = "3" ] &&
  jfield "$KEY" fixVersions | js 'o.fields.fixVersions.map(v=>v.name).join("\n")' | grep -qxF "Delivery: $NAME"; }
wait_until "trigger won-deal-delivery: release \"Delivery: $NAME\" is the Epic's fix version, with 3 delivery Stories under $KEY" triggered

bold "Jira → Salesforce in real time: the team renames the Epic and moves it back to In Progress"
curl -fsS -X PUT -u "$JAUTH" -H 'Content-Type: application/json' "$JIRA/rest/api/3/issue/$KEY" \
  -d '{"fields":{"summary":"Renewal 2027 – scope agreed with the customer"}}'
TID=$(curl -fsS -u "$JAUTH" "$JIRA/rest/api/3/issue/$KEY/transitions" | js 'o.transitions.find(t=>t.name==="Reopen").id')
curl -fsS -X POST -u "$JAUTH" -H 'Content-Type: application/json' "$JIRA/rest/api/3/issue/$KEY/transitions" -d "{\"transition\":{\"id\":\"$TID\"}}"
opp_renamed() { [ "$(sfq "SELECT Name, Jira_Status__c FROM Opportunity WHERE Id = '$OPP'" | js 'o.records[0].Name+"|"+o.records[0].Jira_Status__c')" = "Renewal 2027 – scope agreed with the customer|To Do" ]; }
wait_until "Opportunity Name and Jira_Status__c follow the Epic (signed webhook → worker)" opp_renamed

bold "A conflict resolved by policy: both sides rename the same record at once"
sfpatch "$OPP" '{"Name":"Renewal 2027 (Salesforce wording)"}'
sleep 0.05
curl -fsS -X PUT -u "$JAUTH" -H 'Content-Type: application/json' "$JIRA/rest/api/3/issue/$KEY" \
  -d '{"fields":{"summary":"Renewal 2027 (Jira wording)"}}'
both_agree() { [ "$(sfq "SELECT Name FROM Opportunity WHERE Id = '$OPP'" | js 'o.records[0].Name')" = "Renewal 2027 (Jira wording)" ] &&
  [ "$(jfield "$KEY" summary | js 'o.fields.summary')" = "Renewal 2027 (Jira wording)" ]; }
wait_until "both sides settle on the later edit (Name ⇄ summary is last_writer_wins in the mapping)" both_agree
echo "The audit trail of this pair (before → after, and why each value won):"
"$BIN/sfjira" audit --sf "Opportunity/$OPP" --last 8

bold "Activities: calls, e-mails and meetings are comments and worklogs; preview a sync with --dry-run"
TASKS=$(sfq "SELECT Id, WhatId, Subject FROM Task WHERE TaskSubtype = 'Call'")
TASK=$(js 'o.records.find(r=>r.WhatId.startsWith("006")).Id' <<<"$TASKS")
TOPP=$(js 'o.records.find(r=>r.WhatId.startsWith("006")).WhatId' <<<"$TASKS")
TKEY=$(sfq "SELECT Jira_Issue_Key__c FROM Opportunity WHERE Id = '$TOPP'" | js 'o.records[0].Jira_Issue_Key__c')
echo "Epic $TKEY: $(curl -fsS -u "$JAUTH" "$JIRA/rest/api/3/issue/$TKEY/comment" | js 'o.total') comment(s), $(curl -fsS -u "$JAUTH" "$JIRA/rest/api/3/issue/$TKEY/worklog" | js 'o.total') worklog(s)"
curl -fsS -X PATCH "$SF/services/data/v62.0/sobjects/Task/$TASK" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"Subject":"Call: pricing agreed, PO next week"}'
"$BIN/sfjira" sync --sf "Opportunity/$TOPP" --dry-run
"$BIN/sfjira" sync --sf "Opportunity/$TOPP" --wait
comment_updated() { curl -fsS -u "$JAUTH" "$JIRA/rest/api/3/issue/$TKEY/comment" | grep -q 'pricing agreed, PO next week'; }
wait_until "the call's comment on $TKEY was updated in place" comment_updated

idle() { ! "$BIN/temporal" workflow describe --address 127.0.0.1:7233 -w "sync/sf/$OPP" -o json 2>/dev/null | grep -q 'STATUS_RUNNING'; }
wait_until "the pair's workflow has drained its events (our own writes came back as echoes and wrote nothing)" idle
bold "Sync it again by hand: nothing changed, so nothing is written"
"$BIN/sfjira" sync --sf "Opportunity/$OPP" --wait

bold "Verify: every Opportunity has exactly one matching, back-linked Epic"
set +e
"$BIN/sfjira" verify --object Opportunity
VERIFY=$?
for obj in Feature_Request__c Case; do
  "$BIN/sfjira" verify --object "$obj" || VERIFY=1
done
set -e

bold "Payloads are encrypted in Temporal (AES-256-GCM, key id in each payload)"
ENC=$("$BIN/temporal" workflow show --address 127.0.0.1:7233 -w "sync/sf/$OPP" -o json 2>/dev/null | grep -c 'YmluYXJ5L2VuY3J5cHRlZA' || true)
DEC=$("$BIN/temporal" workflow show --address 127.0.0.1:7233 -w "sync/sf/$OPP" -o json --codec-endpoint http://127.0.0.1:8090/codec 2>/dev/null | grep -c 'YmluYXJ5L2VuY3J5cHRlZA' || true)
echo "  temporal workflow show sync/sf/$OPP: $ENC encrypted payloads; through the worker's /codec endpoint: $DEC left encrypted"

bold "API calls made (emulator /__admin/stats)"
echo "Salesforce: $(curl -fsS "$SF/__admin/stats" | grep -oE '"total" *: *[0-9]+' | grep -oE '[0-9]+') calls;" \
  "Jira: $(curl -fsS "$JIRA/__admin/stats" | grep -oE '"total" *: *[0-9]+' | grep -oE '[0-9]+') calls"

bold "sfjira status: workers, pollers and lag, dead letters, conflicts, API budget, error rate"
"$BIN/sfjira" status || true

bold "Where to look"
cat <<TXT
  Temporal UI, every Opportunity sync:  $UI/namespaces/default/workflows?query=SfObjectType%3D%22Opportunity%22
  the edited record's runs:             $UI/namespaces/default/workflows?query=SfRecordId%3D%22$OPP%22
  change pollers:                       $UI/namespaces/default/workflows?query=WorkflowType%3D%22ChangePoller%22
  worker metrics:                       http://127.0.0.1:8090/metrics
  payload codec (the UI decodes here):  http://127.0.0.1:8090/codec  (security.* in deploy/dev/sfjira.yaml)
  Jira emulator issues:                 $JIRA/__admin/issues
  API call counts:                      $SF/__admin/stats  and  $JIRA/__admin/stats
  logs:                                 .demo/worker.log  .demo/temporal.log  .demo/emulators.log
TXT

if [ "${DEMO_ONCE:-}" = "1" ]; then
  if [ $FAILED -ne 0 ]; then VERIFY=1; fi
  if [ $VERIFY -eq 0 ]; then echo; echo "DEMO OK: every Epic matches its Opportunity"; else echo; echo "DEMO FAILED: see the verify report above"; fi
  exit $VERIFY
fi
echo; echo "Running. Press Ctrl-C to stop everything."
wait
