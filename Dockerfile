# syntax=docker/dockerfile:1
# regcred: built on a full Node 24 image into one self-contained bundle (ADR 0007), run on a minimal
# Node 24 runtime with no shell and no node_modules.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM gcr.io/distroless/nodejs24-debian12:nonroot
LABEL org.opencontainers.image.title="regcred" \
      org.opencontainers.image.description="Admission webhook and controller that gives opted-in namespaces the registry credentials their pods need" \
      org.opencontainers.image.licenses="Apache-2.0"
# Two malloc arenas instead of eight per core: regcred's work is on one thread, and the arenas of
# the idle ones are memory the process holds and never uses (docs/benchmarks.md, section 4).
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/dist ./dist
USER 65532:65532
EXPOSE 8443 9090
# Semi-spaces of 8 MiB: V8 sizes the young generation from the host's memory, not the container's
# limit, and on a large node lets it grow to 64 MiB per semi-space (docs/benchmarks.md, section 4).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "dist/main.js"]
