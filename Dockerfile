# syntax=docker/dockerfile:1
# llm-gateway image: a build stage compiles TypeScript to dist/; the runtime stage holds only the
# production dependencies (npm ci --omit=dev: no compiler, no test tools) and dist/.
#   docker build -t llm-gateway .
#   docker run --rm -p 8080:8080 -e OPENAI_API_KEY llm-gateway

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY gen ./gen
RUN npm run build

FROM node:20.20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    LLMGW_HOST=0.0.0.0 \
    LLMGW_PORT=8080
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# dist/ carries dist/package.json (the version) next to dist/src and dist/gen.
COPY --from=build /app/dist ./dist
# The image's own user (uid 1000), never root; the app files stay root-owned and read-only to it.
USER node
EXPOSE 8080
# `llm-gateway health --ready` asks GET /readyz on 127.0.0.1:$LLMGW_PORT; exit 0 only when serving.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/src/main.js", "health", "--ready"]
# Node runs as PID 1 with no init on purpose: the gateway installs its own SIGTERM / SIGINT handlers
# (stop accepting, drain in-flight calls for server.shutdown_grace_ms, exit 0), and it spawns no
# child processes, so there are no zombies to reap. Give `docker stop -t` / Kubernetes'
# terminationGracePeriodSeconds more than that grace.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
