# One image for every role: libvirt-telemetry <generate|parse|sidecar|exporter|events> [options].
# The role is the first argument (CMD); the Kubernetes manifests (`generate manifests`) set it in args.
# The base: Node.js 24 LTS on Debian 12, slim, pinned by digest so that a rebuild gets the same base.
# A build may pass another NODE_IMAGE (the tests build on a base made from Debian and npm packages).
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS build
# A registry behind a TLS-inspecting proxy: pass its CA bundle as a build volume and its path here
# (a volume, never a COPY: nothing of the build machine's trust or npm configuration enters a layer).
ARG NODE_EXTRA_CA_CERTS
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
COPY exporter ./exporter
COPY events ./events
COPY templates ./templates
COPY deploy/crd ./deploy/crd
COPY deploy/rbac ./deploy/rbac
COPY deploy/prometheus/libvirt-telemetry.rules.yml ./deploy/prometheus/
COPY deploy/grafana/libvirt-telemetry.json ./deploy/grafana/
# Compile the runtime folders only, then drop the dev dependencies before node_modules is copied on.
RUN npx tsc -p tsconfig.build.json \
 && chmod 0755 dist/cli/main.js \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ARG NODE_IMAGE
# The package version (package.json); a test keeps the two equal.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="libvirt-telemetry" \
      org.opencontainers.image.description="Telemetry of libvirt/QEMU hypervisor nodes: Fluent Bit configs, log sidecar, Prometheus exporter and HA event listener" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="c5c3" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# journalctl for the sidecar's journal source (host model); Debian ships it in the systemd package.
# Installed only when the base lacks it (the tests' base has it already).
RUN command -v journalctl >/dev/null || { apt-get update \
 && apt-get install -y --no-install-recommends systemd \
 && rm -rf /var/lib/apt/lists/*; }
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/templates ./templates
COPY --from=build /app/deploy ./deploy
RUN ln -s /app/dist/cli/main.js /usr/local/bin/libvirt-telemetry
# A numeric non-root user, so that runAsNonRoot can verify it; files written into a mounted directory
# belong to it (`--user` or the pod's runAsUser choose another). The sidecar reading root-owned QEMU
# logs runs as root with every capability dropped (its manifest says why).
USER 1000:1000
# No HEALTHCHECK: Kubernetes ignores it (the manifests probe /healthz), podman drops it from OCI images,
# and the port depends on the role (9177, 9178, 9179, none for generate and parse).
ENTRYPOINT ["libvirt-telemetry"]
CMD ["exporter"]
