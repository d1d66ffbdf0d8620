#!/usr/bin/env bash
# `arca registry migrate` (DOCKER_REGISTRY -> Arca) against `skopeo sync` into the same Arca server.
# Seeds Debian's docker-registry with N single-platform images of 3 random layers each (bench/img<i>:1), then times:
#   1. arca registry migrate, one image at a time (--concurrency 1; each image's blobs 3 in parallel)
#   2. skopeo sync (1.9: images one after another, layers in parallel) -- the like-for-like comparison
#   3. arca registry migrate with --concurrency C (images in parallel)
#   4. the no-op rerun of (1): the listing reads each tag's manifest, every tag is skipped by one HEAD, no bytes moved
# Every migrated tag is checked to have the source digest. Not a CI test.
# Usage: bench/migrate-bench.sh [--images N] [--layer-kib K] [--concurrency C]
set -euo pipefail

IMAGES=200
LAYER_KIB=256
CONCURRENCY=4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --images) IMAGES="$2"; shift 2 ;;
    --layer-kib) LAYER_KIB="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/migrate-bench.XXXXXX)"
ARCA_PORT=18611
REG_PORT=18612
TOKEN="arca_bench_$(date +%s)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

for tool in curl python3 docker-registry dotnet skopeo; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

echo "== building Arca (Release)"
dotnet build "$ROOT/src/Arca.Cli" -c Release -o "$WORK/arca-bin" -v quiet -nologo >/dev/null
ARCA_DLL="$WORK/arca-bin/arca.dll"

echo "== starting servers"
ARCA_ADMIN_TOKEN="$TOKEN" dotnet "$ARCA_DLL" serve --listen "http://127.0.0.1:$ARCA_PORT" --data "$WORK/arca-data" >"$WORK/arca.log" 2>&1 &
PIDS+=("$!")
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry-data}}
http: {addr: 127.0.0.1:$REG_PORT}
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=("$!")
for url in "http://127.0.0.1:$ARCA_PORT/healthz" "http://127.0.0.1:$REG_PORT/v2/"; do
  for _ in $(seq 150); do curl -sf -o /dev/null "$url" && break; sleep 0.2; done
  curl -sf -o /dev/null "$url" || { echo "server at $url did not start" >&2; cat "$WORK"/*.log >&2; exit 1; }
done
for reg in migrated migrated-par skopeo; do
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$ARCA_PORT/api/v1/registries" -d "{\"identifier\":\"$reg\",\"packageType\":\"DOCKER\"}"
done

echo "== seeding docker-registry: $IMAGES images x 3 layers x $LAYER_KIB KiB"
python3 - "$REG_PORT" "$IMAGES" "$LAYER_KIB" "$WORK/digests.txt" <<'EOF'
import hashlib, http.client, json, os, sys
port, images, kib, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", port)
def req(method, path, body=b"", headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse(); data = r.read(); return r, data
def push_blob(repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    r, _ = req("POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"}); assert r.status == 202, r.status
    loc = r.getheader("Location")
    if loc.startswith("http"): loc = "/" + loc.split("/", 3)[3]
    r, body = req("PUT", f"{loc}{'&' if '?' in loc else '?'}digest={d}", data, {"Content-Type": "application/octet-stream"})
    assert r.status == 201, (r.status, body)
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(data)}
with open(out, "w") as f:
    for i in range(images):
        repo = f"bench/img{i:04d}"
        layers = [push_blob(repo, os.urandom(kib * 1024)) for _ in range(3)]
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
        c = push_blob(repo, cfg); c["mediaType"] = "application/vnd.oci.image.config.v1+json"
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c, "layers": layers}).encode()
        r, body = req("PUT", f"/v2/{repo}/manifests/1", manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        assert r.status == 201, (r.status, body)
        f.write(f"{repo} sha256:{hashlib.sha256(manifest).hexdigest()}\n")
EOF

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

write_config() { # $1 = destination registry, $2 = concurrency
  cat >"$WORK/migrate-$1.yaml" <<EOF
version: 1.0.0
concurrency: $2
source:
  endpoint: http://127.0.0.1:$REG_PORT
  type: DOCKER_REGISTRY
destination:
  endpoint: http://127.0.0.1:$ARCA_PORT
  type: ARCA
  credentials: { username: admin, password: $TOKEN }
mappings:
  - artifactType: DOCKER
    sourceRegistry: bench
    destinationRegistry: $1
EOF
  echo "$WORK/migrate-$1.yaml"
}

verify() { # $1 = repository prefix at Arca
  local bad=0
  while read -r repo digest; do
    got=$(curl -sf -I -u "admin:$TOKEN" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      "http://127.0.0.1:$ARCA_PORT/v2/$1/${repo#bench/}/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}' || true)
    [[ "$got" == "$digest" ]] || { bad=$((bad + 1)); }
  done <"$WORK/digests.txt"
  [[ $bad == 0 ]] || { echo "$bad images differ at $1" >&2; tail -n 20 "$WORK/skopeo.log" >&2; exit 1; }
}

migrate() { # $1 = config, rest = extra args
  local cfg=$1; shift
  dotnet "$ARCA_DLL" registry migrate --config "$cfg" --summary "$@" >"$WORK/last-migrate.txt" 2>&1 \
    || { cat "$WORK/last-migrate.txt" >&2; exit 1; }
}

echo "== arca registry migrate --concurrency 1"
CFG1=$(write_config migrated 1)
t0=$(now); migrate "$CFG1"; t1=$(now)
OURS_1=$(elapsed "$t0" "$t1"); verify migrated
tail -n 4 "$WORK/last-migrate.txt"

echo "== skopeo sync"
{
  echo "127.0.0.1:$REG_PORT:"
  echo "  tls-verify: false"
  echo "  images:"
  while read -r repo _; do echo "    $repo: [\"1\"]"; done <"$WORK/digests.txt"
} >"$WORK/sync.yaml"
mkdir -p "$WORK/skopeo-home"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/skopeo-home/policy.json"
t0=$(now)
HOME="$WORK/skopeo-home" skopeo --policy "$WORK/skopeo-home/policy.json" sync --src yaml --dest docker \
  --dest-tls-verify=false --dest-creds "admin:$TOKEN" --preserve-digests \
  "$WORK/sync.yaml" "127.0.0.1:$ARCA_PORT/skopeo" >"$WORK/skopeo.log" 2>&1 || { tail -n 20 "$WORK/skopeo.log" >&2; exit 1; }
t1=$(now)
SKOPEO=$(elapsed "$t0" "$t1"); verify skopeo

echo "== arca registry migrate --concurrency $CONCURRENCY"
CFGN=$(write_config migrated-par "$CONCURRENCY")
t0=$(now); migrate "$CFGN"; t1=$(now)
OURS_N=$(elapsed "$t0" "$t1"); verify migrated-par

echo "== no-op rerun (concurrency 1 config)"
t0=$(now); migrate "$CFG1"; t1=$(now)
NOOP=$(elapsed "$t0" "$t1")
tail -n 4 "$WORK/last-migrate.txt"

echo "== skopeo sync no-op rerun"
t0=$(now)
HOME="$WORK/skopeo-home" skopeo --policy "$WORK/skopeo-home/policy.json" sync --src yaml --dest docker \
  --dest-tls-verify=false --dest-creds "admin:$TOKEN" --preserve-digests \
  "$WORK/sync.yaml" "127.0.0.1:$ARCA_PORT/skopeo" >"$WORK/skopeo.log" 2>&1 || { tail -n 20 "$WORK/skopeo.log" >&2; exit 1; }
t1=$(now)
SKOPEO_NOOP=$(elapsed "$t0" "$t1")

MIB=$(python3 -c "print(f'{$IMAGES * 3 * $LAYER_KIB / 1024:.0f}')")
echo
echo "== results: $IMAGES images x 3 layers x $LAYER_KIB KiB (~$MIB MiB), docker-registry -> Arca on 127.0.0.1"
printf '%-44s %8s s\n' "arca registry migrate (concurrency 1)" "$OURS_1"
printf '%-44s %8s s\n' "skopeo sync (sequential images)" "$SKOPEO"
printf '%-44s %8s s\n' "arca registry migrate (concurrency $CONCURRENCY)" "$OURS_N"
printf '%-44s %8s s  (%s%% of the first run)\n' "arca no-op rerun" "$NOOP" "$(python3 -c "print(f'{100 * $NOOP / $OURS_1:.1f}')")"
printf '%-44s %8s s\n' "skopeo sync no-op rerun" "$SKOPEO_NOOP"
