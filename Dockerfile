# syntax=docker/dockerfile:1
# Nest Model Server. Three stages: `build` compiles the server; `deps` installs the production dependencies and
# drops other platforms' onnxruntime binaries; the final stage holds only those and runs as a numeric non-root user
# (uid 1000, the node image's `node` user), as Kubernetes' runAsNonRoot requires.
#   docker build -t nest-model-server .
#   docker run -p 8080:8080 -p 8081:8081 nest-model-server                          # the bundled samples
#   docker run -p 8080:8080 -p 8081:8081 -v $PWD/models:/mnt/models:ro nest-model-server   # your model folder(s)
# A folder mounted at /mnt/models is served instead of the samples: its models.yaml, or the folder as one model
# (model.ts / model.js; name it with --model_name or MODEL_NAME). docs/deployment.md has the details.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no install script runs (npm 10 honours it for every package). onnxruntime-node's would
# download CUDA libraries; its CPU binaries ship inside the package.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY libs ./libs
COPY src ./src
COPY samples ./samples
RUN npm run build

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prune-onnxruntime.js ./scripts/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node scripts/prune-onnxruntime.js node_modules \
 && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY samples ./samples
USER 1000:1000
EXPOSE 8080 8081
# Docker's own health check (docker run, compose); Kubernetes uses the probes of deploy/kserve instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["node", "dist/src/probe.js", "/v2/health/ready"]
# SageMaker starts containers with the argument `serve`; KServe's ServingRuntime names its command and args.
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
