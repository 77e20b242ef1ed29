# syntax=docker/dockerfile:1
# Nest Model Server: build stage compiles the server; the runtime stage holds production dependencies only
# and runs as the unprivileged `node` user.
#   docker build -t nest-model-server .
#   docker run -p 8080:8080 -p 8081:8081 nest-model-server                       # the bundled samples
#   docker run -p 8080:8080 -v $PWD/models:/mnt/models nest-model-server serve --config /mnt/models/models.yaml

FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node ships its CPU binaries in the package; its postinstall would fetch CUDA files.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY libs ./libs
COPY src ./src
COPY samples ./samples
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    HOST=0.0.0.0 \
    PORT=8080 \
    GRPC_PORT=8081
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY samples ./samples
USER node
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:'+(process.env.PORT||8080)+'/v2/health/live',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# SageMaker starts containers with the argument `serve`; KServe passes `serve --config ...`.
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
