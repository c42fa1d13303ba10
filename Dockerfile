# syntax=docker/dockerfile:1
# The Skype ↔ Matrix bridge as a container image; docker-compose.yml runs it beside Synapse (see the
# README's "Docker" section). The image also carries the reference Skype server (dist/refserver) for
# the compose file's "demo" profile.
#
# better-sqlite3 is compiled from source, as scripts/setup.mjs does outside Docker: node-gyp needs
# python3, make and g++, and Node's headers, which ship with Node in this image (/usr/local/include/node),
# so npm_config_nodedir points there instead of letting node-gyp download them.

# --- toolchain: what compiling better-sqlite3 needs, plus the package manifests ---
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /app
# The native Matrix crypto package is replaced by a local stand-in through npm "overrides" (see the
# README): npm ci needs stubs/ next to the manifests.
COPY package.json package-lock.json ./
COPY stubs ./stubs

# --- build: every dependency, then the TypeScript build (dist/src and dist/refserver) ---
FROM toolchain AS build
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY refserver ./refserver
RUN npm run build

# --- prod-deps: the runtime dependencies only, better-sqlite3 compiled for this Node ---
FROM toolchain AS prod-deps
RUN npm ci --omit=dev

# --- runtime: Node, the production node_modules and the build; no compiler, no TypeScript ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY stubs ./stubs
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The reference server finds its fixture accounts next to its code (refserver/index.ts).
COPY refserver/fixtures ./dist/refserver/fixtures
COPY docker/register-once.sh ./docker/register-once.sh
# Runs as the image's unprivileged "node" user. It is also in group 991, the group Synapse's image runs
# as, so the registration written by docker/register-once.sh (mode 0640, group 991) is readable by
# Synapse and the bridge only. /data holds the database; /registration the shared registration file.
RUN (getent group 991 >/dev/null || groupadd --gid 991 synapse) \
    && usermod --append --groups "$(getent group 991 | cut -d: -f1)" node \
    && mkdir -p /data /registration \
    && chown node:node /data \
    && chown node:991 /registration \
    && chmod 0750 /data /registration
USER node
VOLUME ["/data"]
# The appservice listener: appservice.port in the config (docker/bridge/config.yaml).
EXPOSE 29330
# matrix-appservice answers GET /health with 200 once the bridge listens; the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:29330/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["-c", "/data/config.yaml", "-f", "/data/registration.yaml"]
