# llm-gateway developer and deployment shortcuts. `make` (or `make help`) lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VERSION     := $(shell node -p "require('./package.json').version" 2>/dev/null || echo dev)
IMAGE       ?= llm-gateway:$(VERSION)
CONTAINER   ?= llm-gateway
PORT        ?= 8080
GATEWAY_URL ?= http://127.0.0.1:$(PORT)
ARGS        ?=
# test-chat: MODEL is "provider/model" or an alias; PROVIDER prefixes a bare MODEL; STREAM=true|false.
MODEL       ?= mock/echo
PROVIDER    ?=
STREAM      ?= false
OLLAMA_MODEL    ?= ollama/llama3.2:1b
OPENAI_MODEL    ?= openai/gpt-4o-mini
ANTHROPIC_MODEL ?= anthropic/claude-haiku-4-5
ENV_FILE    := $(if $(wildcard .env),--env-file .env,)
TEST_CHAT   := node scripts/test-chat.mjs --url '$(GATEWAY_URL)' --stream '$(STREAM)'

.PHONY: help setup clean build run run-dev test lint format docker-build docker-run docker-stop \
	up up-replicas down test-chat test-ollama test-openai test-anthropic

help: ## List the targets
	@echo "llm-gateway $(VERSION) — make <target> [VAR=value ...]"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## Install dependencies from the lockfile (npm ci)
	npm ci --no-audit --no-fund

clean: ## Remove build output (dist/)
	rm -rf dist

build: ## Compile TypeScript to dist/
	npm run -s build

run: build ## Build, then run the gateway as in production (ARGS="--port 9090 ..." adds flags)
	npm run -s start:prod -- $(ARGS)

run-dev: ## Run from the sources, restarting on every change (tsx watch)
	npx tsx watch src/main.ts $(ARGS)

test: ## Typecheck, lint, generated code fresh, contract, layers, all tests (npm test)
	npm test

lint: ## Biome + buf lint (npm run lint)
	npm run -s lint

format: ## Format every file with Biome (npm run format)
	npm run -s format

docker-build: ## Build the image (IMAGE=llm-gateway:<version>)
	docker build -t $(IMAGE) .

docker-run: ## Run the image detached on PORT (8080) (keys from .env and the shell's env)
	docker run -d --name $(CONTAINER) -p $(PORT):8080 $(ENV_FILE) \
		-e OPENAI_API_KEY -e ANTHROPIC_API_KEY -e GEMINI_API_KEY -e OLLAMA_HOST -e LLMGW_LOG_LEVEL \
		$(IMAGE) $(ARGS)

docker-stop: ## Stop (SIGTERM, graceful drain) and remove the container
	docker stop -t 15 $(CONTAINER)
	docker rm $(CONTAINER)

up: ## docker compose: gateway + Redis + Ollama
	docker compose up -d --build

up-replicas: ## docker compose: N gateways (GATEWAY_REPLICAS, default 3) + Redis + Ollama behind nginx
	docker compose -f compose.replicas.yaml up -d --build

down: ## Stop both compose stacks
	docker compose down
	docker compose -f compose.replicas.yaml down

test-chat: ## One real call through the gateway at GATEWAY_URL: MODEL=... PROVIDER=... STREAM=true|false
	$(TEST_CHAT) --model '$(MODEL)' --provider '$(PROVIDER)'

test-ollama: ## test-chat with ollama/llama3.2:1b (OLLAMA_MODEL=... to change)
	$(TEST_CHAT) --model '$(OLLAMA_MODEL)'

test-openai: ## test-chat with openai/gpt-4o-mini (OPENAI_MODEL=... to change)
	$(TEST_CHAT) --model '$(OPENAI_MODEL)'

test-anthropic: ## test-chat with anthropic/claude-haiku-4-5 (ANTHROPIC_MODEL=... to change)
	$(TEST_CHAT) --model '$(ANTHROPIC_MODEL)'
