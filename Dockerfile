# porch-ts API server image. Build: docker build -t porch-ts .
#
# The TypeScript sources are compiled to JavaScript in the build stage (tsc rewrites the `.ts` import
# suffixes, tsconfig.build.json), so the image runs plain `node` and carries no TypeScript tooling:
# tsx stays a development dependency, and start-up does not pay for compiling on the fly.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gateway ./gateway
COPY handlers ./handlers
COPY lib ./lib
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# No dependency's install scripts run here; our own patches to dependencies (patches/, what the
# postinstall script applies after a plain `npm ci`) are applied explicitly.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npx --no-install patch-package --error-on-fail && npm cache clean --force

FROM ${NODE_IMAGE}
# openssl makes the self-signed serving certificate when no --tls-cert/--tls-key is given.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORCH_DATA_DIR=/var/lib/porch-ts
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /src/dist ./dist
RUN mkdir -p /var/lib/porch-ts && chown 65532:65532 /var/lib/porch-ts
# A numeric user, so runAsNonRoot can verify it without an /etc/passwd entry.
USER 65532:65532
EXPOSE 4443
ENTRYPOINT ["node", "dist/gateway/main.js"]
CMD ["--mode=cluster", "--host=0.0.0.0", "--port=4443", "--tls"]
