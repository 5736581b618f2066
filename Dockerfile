# syntax=docker/dockerfile:1
#
# kafscale-mcp image: the compiled service (dist/) and its production dependencies.
#   docker build -t kafscale-mcp:0.1.0 .
#   docker run --rm -p 8090:8090 -e KAFSCALE_MCP_ETCD_ENDPOINTS=http://etcd:2379 kafscale-mcp:0.1.0
#   docker run --rm -p 8090:8090 kafscale-mcp:0.1.0 demo      # bundled demo data, no etcd needed
#
# Every stage uses the same Node image so better-sqlite3's native addon is built for the Node ABI and
# glibc it runs on. The Node major here is the one CI tests besides the oldest supported one
# (.ci/run's NODE_MAJORS; test/unit/shipping.test.ts holds the two together). This image is not built
# by CI (no Docker engine there); the tests check what it depends on instead: the Node major, the
# entry point (package.json's bin) and the build and install commands.
# Node 22 LTS, not 24: on Node 24 (24.21.0 measured) better-sqlite3 12.11.1 aborts the process
# (SIGABRT, "Assertion failed: (env) != nullptr" in node::RemoveEnvironmentCleanupHook from
# Statement::~Statement when a statement is garbage collected); `kafscale-mcp demo` died at start and
# 5 tests failed when CI ran the suite on Node 24. better-sqlite3 13 (engines: Node >= 22) is the way to 24.
ARG NODE_IMAGE=node:22-bookworm-slim

# Toolchain for native addons (better-sqlite3 compiles from source when no prebuilt binary fits).
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Build: all dependencies, then tsc -p tsconfig.build.json -> dist/. --ignore-scripts: the package's
# own prepare step (the same build) would run before src/ is copied, and tsc needs no native addon.
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only; better-sqlite3's native addon is compiled here, with the toolchain
# (--ignore-scripts keeps the package's prepare step, which needs the dev dependencies, from running).
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild better-sqlite3 \
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
