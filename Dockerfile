# One image for every role: libvirt-telemetry <generate|parse|sidecar|exporter|events> [options].
# The role is the first argument (CMD); the Kubernetes manifests (`generate manifests`) set it in args.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY cli ./cli
COPY runtime ./runtime
COPY generator ./generator
COPY parsers ./parsers
COPY sidecar ./sidecar
COPY libvirt ./libvirt
COPY metrics ./metrics
COPY events ./events
COPY templates ./templates
COPY deploy/prometheus/libvirt-telemetry.rules.yml ./deploy/prometheus/
COPY deploy/grafana/libvirt-telemetry.json ./deploy/grafana/
# Compile the runtime folders only, then drop the dev dependencies before node_modules is copied on.
RUN npx tsc -p tsconfig.build.json \
 && chmod 0755 dist/cli/main.js \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# journalctl for the sidecar's journal source (host model); Debian ships it in the systemd package.
RUN apt-get update \
 && apt-get install -y --no-install-recommends systemd \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/templates ./templates
COPY --from=build /app/events/deploy ./events/deploy
COPY --from=build /app/deploy ./deploy
RUN ln -s /app/dist/cli/main.js /usr/local/bin/libvirt-telemetry
# The node image's unprivileged user, numeric so that runAsNonRoot can verify it. The sidecar reading
# root-owned QEMU logs or the host journal overrides it (runAsUser 0, or the journal's group).
USER 1000:1000
ENTRYPOINT ["libvirt-telemetry"]
CMD ["exporter"]
