#!/usr/bin/env bash
# Runs every test (unit, storage contract, HTTP, CLI and real-client end-to-end) and prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh || { echo "installing test dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
export PATH="$PWD/.tools/node/node_modules/.bin:$PATH"

results="$PWD/TestResults"
rm -rf "$results"
dotnet build Arca.slnx -c Release -v q -nologo || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
dotnet test Arca.slnx -c Release --no-build -nologo --logger "trx" --logger "console;verbosity=normal" \
  --results-directory "$results" ${ARCA_TEST_FILTER:+--filter "$ARCA_TEST_FILTER"}
status=$?

python3 - "$results" "$status" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
passed = failed = skipped = 0
files = glob.glob(sys.argv[1] + "/**/*.trx", recursive=True)
for f in files:
    c = ET.parse(f).getroot().find(".//{*}ResultSummary/{*}Counters")
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    skipped += int(c.get("notExecuted", 0))
if not files or (int(sys.argv[2]) != 0 and failed == 0):
    failed += 1  # the runner itself failed (crash, build error): never report green
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
