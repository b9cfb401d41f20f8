// Liveness and readiness (Kubernetes probes, grpc.health.v1, the Health RPC), derived from live state:
// "liveness" = the process serves; "readiness" (also "" and the LLMService name) = it can answer calls.
import type { Gateway } from "../gateway/gateway.js";
import type { RedisLink } from "../redis/client.js";
import type { HealthState, ServingStatus } from "./grpc-health.js";

/** grpc.health.v1 service of the liveness probe. */
export const LIVENESS = "liveness";
/** grpc.health.v1 service of the readiness probe. */
export const READINESS = "readiness";
/** Services that report readiness: the whole server (""), "readiness" and the LLM service. */
const READY_SERVICES: ReadonlySet<string> = new Set(["", READINESS, "llmgateway.v1.LLMService"]);
/** How often readiness is re-evaluated while someone Watches it. */
const WATCH_POLL_MS = 500;

/** Whether the gateway can answer calls, and why not. */
export interface Readiness {
  ready: boolean;
  /** Why it is not ready; "" when ready. */
  detail: string;
}

const READY: Readiness = { ready: true, detail: "" };
const not = (detail: string): Readiness => ({ ready: false, detail });

/**
 * Ready when: a config is loaded (a gateway exists) and it is not draining; a provider is enabled;
 * Redis answers when configured with redis.on_outage: fail_closed; and at least one known deployment
 * is not circuit-open. Known = configured (models.*.deployments and fallbacks, on enabled providers)
 * plus every deployment called so far; one never called counts as closed, and a gateway that knows
 * none (zero config, nothing called yet) is ready.
 */
export function readiness(gw: Gateway | undefined, redis: RedisLink | undefined): Readiness {
  if (!gw) return not("no configuration loaded");
  if (gw.isDraining) return not("shutting down");
  if (gw.providers.size === 0) return not("no provider enabled");
  if (redis && gw.config.file.redis?.on_outage === "fail_closed" && redis.state !== "up") {
    return not(`redis is ${redis.state} and redis.on_outage is fail_closed`);
  }
  const called = gw.deploymentHealth();
  const open = new Set<string>();
  for (const d of called) {
    if (d.breaker !== "open") return READY;
    open.add(d.target);
  }
  for (const m of gw.config.models.values()) {
    for (const target of [...m.deployments.map((d) => d.target), ...m.fallbacks]) {
      if (!open.has(target) && gw.providers.has(target.slice(0, target.indexOf("/")))) return READY;
    }
  }
  return called.length === 0 ? READY : not(`every deployment's circuit breaker is open (${called.length})`);
}

/** The probes as a grpc.health.v1 status store (read-only: statuses follow the gateway). */
export class ProbeHealth implements HealthState {
  private stopped = false;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private last: ServingStatus | undefined;

  /** Thunks: the gateway is replaced on a config reload. */
  constructor(
    private readonly src: { gateway: () => Gateway | undefined; redis: () => RedisLink | undefined },
  ) {}

  /** Readiness now (NOT ready from stop() on). */
  readiness(): Readiness {
    return this.stopped ? not("shutting down") : readiness(this.src.gateway(), this.src.redis());
  }

  /** "liveness": SERVING while the process runs, draining included (failing it would cut the drain). */
  status(service: string): ServingStatus | undefined {
    if (service === LIVENESS) return "SERVING";
    if (READY_SERVICES.has(service)) return this.readiness().ready ? "SERVING" : "NOT_SERVING";
    return undefined;
  }

  detail(service: string): string {
    return service === LIVENESS ? "" : this.readiness().detail;
  }

  services(): string[] {
    return [...READY_SERVICES, LIVENESS];
  }

  onChange(listener: () => void): () => void {
    const entry = (): void => listener();
    this.listeners.add(entry);
    if (!this.timer) {
      this.last = this.status(READINESS);
      this.timer = setInterval(() => this.poll(), WATCH_POLL_MS);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Shutdown began: readiness NOT_SERVING from now on (liveness stays SERVING); watchers are told. */
  stop(): void {
    this.stopped = true;
    this.poll();
  }

  private poll(): void {
    const now = this.status(READINESS);
    if (now === this.last) return;
    this.last = now;
    for (const l of [...this.listeners]) l();
  }
}
