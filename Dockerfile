# syntax=docker/dockerfile:1
# regcred: build on a full Node 24 image, run on a minimal Node 24 runtime with no shell.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm ci --omit=dev

FROM gcr.io/distroless/nodejs24-debian12:nonroot
LABEL org.opencontainers.image.title="regcred" \
      org.opencontainers.image.description="Admission webhook and controller that gives opted-in namespaces the registry credentials their pods need" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY charts/regcred/files ./charts/regcred/files
COPY charts/regcred/crds ./charts/regcred/crds
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
