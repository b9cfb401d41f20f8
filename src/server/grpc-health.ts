// Owns the standard gRPC health service (grpc.health.v1.Health: Check, List, Watch) and its status store.

import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  Health,
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
} from "../../gen/grpc/health/v1/health_pb.js";
import { create } from "../lib/create.js";

/** Status of one known service; an unknown service has no status at all. */
export type ServingStatus = "SERVING" | "NOT_SERVING";

/** Read side of the health store that the gRPC health service serves. Service "" is the whole server. */
export interface HealthState {
  /** Current status of `service`, or undefined if the service is unknown (Check: NOT_FOUND, Watch: SERVICE_UNKNOWN). */
  status(service: string): ServingStatus | undefined;
  /** Every known service name, "" included. */
  services(): string[];
  /** Calls `listener` after every status change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Why `service` is not serving ("" when it is, or when the store does not say). */
  detail?(service: string): string;
}

/** Writable health store returned by {@link createHealthState}. */
export interface MutableHealthState extends HealthState {
  /** Sets the status of `service` (adding it if unknown) and notifies listeners when it changed. */
  set(service: string, status: ServingStatus): void;
  /** Sets every known service, "" included, to `status`. */
  setAll(status: ServingStatus): void;
}

/**
 * Creates a health store knowing `services` plus "" (the whole server), all at `initial` (SERVING, as
 * grpc-go starts; pass NOT_SERVING to report ready only after startup).
 */
export function createHealthState(
  services: string[],
  initial: ServingStatus = "SERVING",
): MutableHealthState {
  const statuses = new Map<string, ServingStatus>([["", initial]]);
  for (const s of services) statuses.set(s, initial);
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  return {
    status: (service) => statuses.get(service),
    services: () => [...statuses.keys()],
    onChange(listener) {
      const entry = (): void => listener();
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    set(service, status) {
      if (statuses.get(service) === status) return;
      statuses.set(service, status);
      notify();
    },
    setAll(status) {
      let changed = false;
      for (const [service, current] of statuses) {
        if (current !== status) {
          statuses.set(service, status);
          changed = true;
        }
      }
      if (changed) notify();
    },
  };
}

function toWire(status: ServingStatus | undefined): HealthCheckResponse_ServingStatus {
  switch (status) {
    case "SERVING":
      return HealthCheckResponse_ServingStatus.SERVING;
    case "NOT_SERVING":
      return HealthCheckResponse_ServingStatus.NOT_SERVING;
    default:
      return HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN;
  }
}

/** Registers grpc.health.v1.Health (Check, List, Watch) on `router`, answering from `state`. */
export function registerGrpcHealth(router: ConnectRouter, state: HealthState): void {
  router.service(Health, {
    check(req) {
      const status = state.status(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status: toWire(status) });
    },
    list() {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const service of state.services()) {
        statuses[service] = create(HealthCheckResponseSchema, { status: toWire(state.status(service)) });
      }
      return create(HealthListResponseSchema, { statuses });
    },
    watch: (req, ctx) => watch(state, req, ctx),
  });
}

/**
 * Sends the current status, then every change, until the client leaves (ctx.signal aborts when the
 * call ends for any reason). An unknown service gets SERVICE_UNKNOWN and the call stays open.
 */
async function* watch(
  state: HealthState,
  req: HealthCheckRequest,
  ctx: HandlerContext,
): AsyncGenerator<HealthCheckResponse> {
  const { signal } = ctx;
  let dirty = false;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    dirty = true;
    wake?.();
  };
  const unsubscribe = state.onChange(poke);
  signal.addEventListener("abort", poke);
  try {
    let last: HealthCheckResponse_ServingStatus | undefined;
    while (!signal.aborted) {
      dirty = false;
      const current = toWire(state.status(req.service));
      if (current !== last) {
        last = current;
        yield create(HealthCheckResponseSchema, { status: current });
      }
      if (!dirty && !signal.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", poke);
  }
}
