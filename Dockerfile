# syntax=docker/dockerfile:1
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PARASCAN_HOST=0.0.0.0 \
    PARASCAN_PORT=3000 \
    PARASCAN_DATA_DIR=/data \
    PARASCAN_SHUTDOWN_GRACE=8s
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional keeps the TypeScript compiler, an optional peer of a runtime dependency, out of the image.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /data \
 && chown 1000:1000 /data
COPY --from=build /app/dist ./dist
# Lua scripts of the Redis store, read at start (src/store/lua-script.ts).
COPY --from=build /app/src/store/lua ./src/store/lua
# The example plug-in, as a PARASCAN_PROCESSORS_DIR of its own (a volume mounted at /processors replaces it).
COPY --from=build /app/dist/examples/processors/redact-fields.js /processors/
COPY examples/processors/package.json /processors/
ENV PARASCAN_PROCESSORS_DIR=/processors
# uid 1000 is the `node` user of the official images; numeric so that runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PARASCAN_PORT || process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
