#!/usr/bin/env bash
# Arca vs Debian's docker-registry (CNCF distribution) on this machine, OCI distribution API only.
# Note: Arca fsyncs every blob before making it visible; docker-registry does not.
# Prints for both and as a ratio (arca / docker-registry): push and pull of one 1 GiB blob (curl, streamed POST+PUT),
# push of 1000 small blobs (one keep-alive connection, POST+PUT each), manifest GET req/s and p99 under wrk,
# and each server's peak RSS. Not a CI test. Usage: bench/oci-bench.sh [--big-mib N] [--small N] [--wrk-seconds N]
set -euo pipefail

BIG_MIB=1024
SMALL_COUNT=1000
WRK_SECONDS=15
while [[ $# -gt 0 ]]; do
  case "$1" in
    --big-mib) BIG_MIB="$2"; shift 2 ;;
    --small) SMALL_COUNT="$2"; shift 2 ;;
    --wrk-seconds) WRK_SECONDS="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/oci-bench.XXXXXX)"
ARCA_PORT=18601
REG_PORT=18602
TOKEN="arca_bench_$(date +%s)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in curl wrk python3 docker-registry dotnet sha256sum; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

echo "== building Arca (Release)"
dotnet build "$ROOT/src/Arca.Cli" -c Release -o "$WORK/arca-bin" -v quiet -nologo >/dev/null
ARCA_DLL="$WORK/arca-bin/arca.dll"

echo "== starting servers"
ARCA_ADMIN_TOKEN="$TOKEN" dotnet "$ARCA_DLL" serve --listen "http://127.0.0.1:$ARCA_PORT" --data "$WORK/arca-data" >"$WORK/arca.log" 2>&1 &
ARCA_PID=$!; PIDS+=("$ARCA_PID")
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry-data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$REG_PORT}
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!; PIDS+=("$REG_PID")

for url in "http://127.0.0.1:$ARCA_PORT/healthz" "http://127.0.0.1:$REG_PORT/v2/"; do
  for _ in $(seq 100); do curl -sf -o /dev/null "$url" && break; sleep 0.2; done
  curl -sf -o /dev/null "$url" || { echo "server at $url did not start" >&2; cat "$WORK"/*.log >&2; exit 1; }
done
# A public registry, so that reads are anonymous on both servers (docker-registry runs without auth).
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  "http://127.0.0.1:$ARCA_PORT/api/v1/registries" -d '{"identifier":"bench","packageType":"DOCKER","public":true}'

ARCA_BASE="http://127.0.0.1:$ARCA_PORT"; ARCA_REPO="bench/app"; ARCA_AUTH=(-H "Authorization: Bearer $TOKEN")
REG_BASE="http://127.0.0.1:$REG_PORT"; REG_REPO="bench/app"; REG_AUTH=()

echo "== generating a ${BIG_MIB} MiB blob"
BIG="$WORK/big.bin"
head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom >"$BIG"
BIG_DIGEST="sha256:$(sha256sum "$BIG" | cut -d' ' -f1)"

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

# push_big BASE REPO AUTH... : POST an upload session, then stream the file in one PUT (curl -T does not buffer)
push_big() {
  local base=$1 repo=$2; shift 2
  local loc
  loc=$(curl -sf -X POST "$@" -D - -o /dev/null "$base/v2/$repo/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  [[ "$loc" == http* ]] || loc="$base$loc"
  local sep='?'; [[ "$loc" == *\?* ]] && sep='&'
  curl -sf -X PUT "$@" -H 'Content-Type: application/octet-stream' -T "$BIG" -o /dev/null "$loc${sep}digest=$BIG_DIGEST"
}

declare -A R
measure_big() {
  local name=$1 base=$2 repo=$3; shift 3
  local t0 t1 t2
  t0=$(now); push_big "$base" "$repo" "$@"; t1=$(now)
  # Timed pull goes to /dev/null (disk writes of the client would dominate); content is verified separately.
  local size; size=$(curl -sf "$@" -o /dev/null -w '%{size_download}' "$base/v2/$repo/blobs/$BIG_DIGEST"); t2=$(now)
  [[ "$size" == "$(stat -c %s "$BIG")" ]] || { echo "$name returned $size bytes" >&2; exit 1; }
  [[ "sha256:$(curl -sf "$@" "$base/v2/$repo/blobs/$BIG_DIGEST" | sha256sum | cut -d' ' -f1)" == "$BIG_DIGEST" ]] \
    || { echo "$name returned different bytes" >&2; exit 1; }
  R[$name.push_big]=$(elapsed "$t0" "$t1"); R[$name.pull_big]=$(elapsed "$t1" "$t2")
}

cat >"$WORK/small.py" <<'EOF'
import hashlib, http.client, os, sys, time, json
host, port, repo, count, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
auth = {"Authorization": "Bearer " + token} if token else {}
conn = http.client.HTTPConnection(host, port)
def req(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers={**auth, **(headers or {})})
    r = conn.getresponse(); data = r.read()
    return r, data
blobs = [os.urandom(1024) for _ in range(count)]
start = time.perf_counter()
for b in blobs:
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    r, _ = req("POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"})
    assert r.status == 202, (r.status, _)
    loc = r.getheader("Location")
    if loc.startswith("http"): loc = "/" + loc.split("/", 3)[3]
    sep = "&" if "?" in loc else "?"
    r, body = req("PUT", f"{loc}{sep}digest={d}", b, {"Content-Type": "application/octet-stream"})
    assert r.status == 201, (r.status, body)
elapsed = time.perf_counter() - start
# a small image for the manifest benchmark
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
layer = blobs[0]
for b in (cfg,):
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    r, _ = req("POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"}); loc = r.getheader("Location")
    if loc.startswith("http"): loc = "/" + loc.split("/", 3)[3]
    sep = "&" if "?" in loc else "?"
    r, _ = req("PUT", f"{loc}{sep}digest={d}", b, {"Content-Type": "application/octet-stream"}); assert r.status == 201
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + hashlib.sha256(cfg).hexdigest(), "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + hashlib.sha256(layer).hexdigest(), "size": len(layer)}]}).encode()
r, body = req("PUT", f"/v2/{repo}/manifests/latest", manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
assert r.status == 201, (r.status, body)
print(f"{elapsed:.3f}")
EOF

measure_small() {
  local name=$1 port=$2 repo=$3 token=$4
  R[$name.small]=$(python3 "$WORK/small.py" 127.0.0.1 "$port" "$repo" "$SMALL_COUNT" "$token")
}

measure_wrk() {
  local name=$1 url=$2
  curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url" || { echo "$name: manifest GET failed" >&2; exit 1; }
  local out
  out=$(wrk -t2 -c32 -d"${WRK_SECONDS}s" --latency -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url")
  R[$name.rps]=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  R[$name.p99]=$(awk '$1=="99%"{print $2}' <<<"$out")
  local errors; errors=$(awk '/Non-2xx/{print $NF}' <<<"$out"); [[ -z "$errors" ]] || { echo "$name: $errors non-2xx responses" >&2; exit 1; }
}

peak_rss_mib() { awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
# Which phase raises each server's peak (VmHWM is the running maximum): printed after the table.
PHASES=""
note_phase() { PHASES+="$(printf '%-22s arca %6s MiB   docker-registry %6s MiB' "$1" "$(peak_rss_mib "$ARCA_PID")" "$(peak_rss_mib "$REG_PID")")"$'\n'; }
note_phase "after start-up"

echo "== 1 GiB blob push/pull"
measure_big arca "$ARCA_BASE" "$ARCA_REPO" "${ARCA_AUTH[@]}"
measure_big registry "$REG_BASE" "$REG_REPO"
note_phase "after 1 GiB push/pull"
echo "== $SMALL_COUNT small blobs"
measure_small arca "$ARCA_PORT" "$ARCA_REPO" "$TOKEN"
measure_small registry "$REG_PORT" "$REG_REPO" ""
note_phase "after small blobs"
echo "== manifest GET under wrk (${WRK_SECONDS}s, 32 connections)"
measure_wrk arca "$ARCA_BASE/v2/$ARCA_REPO/manifests/latest"
measure_wrk registry "$REG_BASE/v2/$REG_REPO/manifests/latest"
note_phase "after wrk"
R[arca.rss]=$(peak_rss_mib "$ARCA_PID"); R[registry.rss]=$(peak_rss_mib "$REG_PID")

to_ms() { python3 -c "
v='$1'
units={'us':0.001,'ms':1,'s':1000}
for u in ('us','ms','s'):
    if v.endswith(u): print(float(v[:-len(u)])*units[u]); break
"; }
R[arca.p99ms]=$(to_ms "${R[arca.p99]}"); R[registry.p99ms]=$(to_ms "${R[registry.p99]}")

python3 - "$BIG_MIB" "$SMALL_COUNT" \
  "${R[arca.push_big]}" "${R[registry.push_big]}" "${R[arca.pull_big]}" "${R[registry.pull_big]}" \
  "${R[arca.small]}" "${R[registry.small]}" "${R[arca.rps]}" "${R[registry.rps]}" \
  "${R[arca.p99ms]}" "${R[registry.p99ms]}" "${R[arca.rss]}" "${R[registry.rss]}" <<'EOF'
import sys
mib, n = sys.argv[1], sys.argv[2]
v = [float(x) for x in sys.argv[3:]]
rows = [
    (f"push {mib} MiB blob (s)", v[0], v[1], False),
    (f"pull {mib} MiB blob (s)", v[2], v[3], False),
    (f"push {n} small blobs (s)", v[4], v[5], False),
    ("manifest GET (req/s)", v[6], v[7], True),
    ("manifest GET p99 (ms)", v[8], v[9], False),
    ("peak RSS (MiB)", v[10], v[11], False),
]
print(f"\n{'metric':<28}{'arca':>12}{'docker-registry':>18}{'ratio arca/reg':>16}  better")
for name, a, r, higher in rows:
    ratio = a / r if r else float('nan')
    better = "arca" if (a > r if higher else a < r) else ("equal" if a == r else "docker-registry")
    print(f"{name:<28}{a:>12.2f}{r:>18.2f}{ratio:>16.2f}  {better}")
EOF
printf '\npeak RSS by phase:\n%s' "$PHASES"
