# Siyu Pulse (私域脉搏) production image: the Express + Socket.IO server, the alert engine and
# the built wall, in one process. docker-compose.yml runs it next to InfluxDB and Grafana.
#
# Debian (glibc), not Alpine: @duckdb/node-api loads a prebuilt native binding at import
# time (server.ts imports the DuckDB adapter even when PULSE_STORE=influx), and the glibc
# build is the one this project installs and tests on Debian. Musl builds exist upstream,
# but nothing here runs them.
# Both stages use the same pinned tag so the native binding is built for the runtime's
# Node ABI and libc.

FROM node:22.22.2-bookworm-slim AS build
WORKDIR /app
# Manifests first: the dependency layer stays cached until they change.
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY alerts/package.json alerts/
COPY backend/package.json backend/
COPY frontend/package.json frontend/
COPY sdk/package.json sdk/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY contracts/ contracts/
COPY alerts/ alerts/
COPY backend/ backend/
COPY frontend/ frontend/
COPY sdk/ sdk/
# contracts → alerts → backend → frontend → sdk (each compiles against the packages before it;
# the tracking SDK is built for its size check and is not part of the image).
RUN npm run build
# Swap the build tree for the server's production dependencies only. The wall is served as
# static files from frontend/dist, so its runtime packages (Vue, ECharts, the socket
# client) and every dev tool stay out of the image. `npm ci` removes node_modules first.
RUN npm ci --omit=dev --workspace backend --workspace alerts --workspace contracts --no-audit --no-fund

FROM node:22.22.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PULSE_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
# The layout mirrors the repository: server.ts finds frontend/dist and alerts/rules two
# directories above backend/dist/server.js. Files stay root-owned, so the server cannot
# rewrite its own code; only /data is writable.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules/
COPY --from=build /app/contracts/package.json contracts/
COPY --from=build /app/contracts/dist contracts/dist/
COPY --from=build /app/alerts/package.json alerts/
COPY --from=build /app/alerts/dist alerts/dist/
COPY --from=build /app/alerts/rules alerts/rules/
COPY --from=build /app/alerts/calendar alerts/calendar/
COPY --from=build /app/backend/package.json backend/
COPY --from=build /app/backend/dist backend/dist/
COPY --from=build /app/frontend/dist frontend/dist/
# Created before VOLUME so a new named volume starts out owned by the runtime user. It holds
# the member-id salt (unless PULSE_SALT is set), display tokens, silences and the alert
# outbox; the DuckDB file lives here too when PULSE_STORE=duckdb.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
# Slim images have no curl or wget; Node's fetch does it. /readyz also checks the store, so
# "unhealthy" means "running but cannot reach InfluxDB", which is what an operator wants to see.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# server.js starts itself when run directly (its main() guard); npm is not PID 1, so SIGTERM
# reaches the server and it flushes open buckets before exiting.
# Heap cap and malloc arenas as measured by `BENCH_ONLY=memory npm run bench` (backend/src/bench/server.ts).
ENV MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-old-space-size=256
CMD ["node", "backend/dist/server.js"]
