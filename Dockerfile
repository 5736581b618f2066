# syntax=docker/dockerfile:1
#
# kafscale-mcp image: the compiled service (dist/) and its production dependencies.
#   docker build -t kafscale-mcp:0.1.0 .
#   docker run --rm -p 8090:8090 -e KAFSCALE_MCP_ETCD_ENDPOINTS=http://etcd:2379 kafscale-mcp:0.1.0
#   docker run --rm -p 8090:8090 kafscale-mcp:0.1.0 demo      # bundled demo data, no etcd needed
#
# Every stage uses the same Node image. The Node major here is the one CI tests besides the oldest
# supported one (.ci/run's NODE_MAJORS; test/unit/shipping.test.ts holds the two together). This image
# is not built by CI (no Docker engine there); the tests check what it depends on instead: the Node
# major, the entry point (package.json's bin) and the build and install commands.
# Node 24 LTS loads better-sqlite3 13 (the better-sqlite3-napi alias; src/store/sqlite-driver.ts): a
# Node-API binary that ships prebuilt in the package (glibc and musl, x64 and arm64), so nothing is
# compiled and no stage needs a toolchain. better-sqlite3 12 (installed for Node 20, which development
# still supports) is never loaded on Node >= 22 — on Node 24.19+ it aborts the process when a
# statement is garbage collected (nodejs/node#65446) — so its install step is skipped and it stays
# without an addon. NODE_IMAGE must stay Node >= 22 for that reason.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Build: all dependencies, then tsc -p tsconfig.build.json -> dist/. --ignore-scripts: the package's
# own prepare step (the same build) would run before src/ is copied, and tsc needs no native addon.
FROM base AS build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only. --ignore-scripts keeps the package's prepare step (which needs the dev
# dependencies) and better-sqlite3 12's addon build (unused on this Node, see above) from running.
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force

# Runtime: no compiler, no dev dependencies, no sources; everything owned by root and read-only to
# the service's user.
FROM ${NODE_IMAGE} AS runtime
# NODE_OPTIONS bounds V8's heap: left alone, Node sizes it from the machine's RAM (GBs) and collects
# lazily, so a service whose live set is ~100 MB at 100k partitions grew past 400 MB resident in the
# benchmark. The young generation is set explicitly because V8 derives it from the old-space limit,
# and at 192 MB that leaves ~1 MB semi-spaces: constant scavenges and slower tool calls.
# The benchmark (bench/lib/shipped-node-options.ts) runs the service with this same value.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=16" \
    KAFSCALE_MCP_HTTP_ADDR=:8090 \
    KAFSCALE_MCP_DB_PATH=/data/kafscale-mcp.db
WORKDIR /app
# package.json is needed at run time: "type": "module" makes dist/*.js ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The snapshot directory: writable by the service user (Kubernetes mounts a volume here).
RUN mkdir -p /data && chown 10001:10001 /data && chmod 0750 /data
USER 10001:10001
EXPOSE 8090
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["serve"]
