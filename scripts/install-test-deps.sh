#!/usr/bin/env bash
# Installs the real clients and reference servers the tests drive (idempotent; needs root or sudo on Debian 12).
set -euo pipefail

APT_PACKAGES=(docker-registry skopeo umoci buildah podman apache2-utils wrk hyperfine twine python3-build python3-wheel
  python3-setuptools python3-venv python3-pip python3-yaml golang-go unzip maven openjdk-17-jdk-headless maven-repo-helper
  libmaven-deploy-plugin-java libmaven-dependency-plugin-java junit4 curl ca-certificates openssl zip jq procps postgresql)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm-based tools (verdaccio, s3rver) live in a project-local folder, not globally.
TOOLS_DIR="$(cd "$(dirname "$0")/.." && pwd)/.tools/node"
if [ -f "$(dirname "$0")/node-tools/package.json" ]; then
  mkdir -p "$TOOLS_DIR"
  if ! cmp -s "$(dirname "$0")/node-tools/package.json" "$TOOLS_DIR/package.json"; then
    cp "$(dirname "$0")/node-tools/package.json" "$TOOLS_DIR/package.json"
    (cd "$TOOLS_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
