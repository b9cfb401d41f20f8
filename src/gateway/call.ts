// Per-call bookkeeping shared by the pipeline and the attempt runner: the attempt trail, who
// answered, the winning deployment's live state, and what the client is told in GatewayInfo.

import {
  type ContextTrim,
  type GatewayInfo,
  GatewayInfoSchema,
  type Usage,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { create } from "../lib/create.js";
import type { DeploymentState } from "../resilience/index.js";
import type { Deployment } from "../routing/index.js";
import type { AttemptRecord } from "../telemetry/observer.js";
import type { CallContext } from "./context.js";

/** Per-call bookkeeping shared by all methods. */
export class Call {
  readonly t0 = performance.now();
  readonly trail: AttemptRecord[] = [];

  /** Records one attempt on `deployment` in the trail. */
  attempt(deployment: string, outcome: string, startedAt: number, ms: number): void {
    this.trail.push({ deployment, outcome, durationMs: Math.round(ms), startedAt, ms });
  }
  upstreamMs = 0;
  provider = "";
  model = "";
  /** The deployment that answered. */
  deployment: Deployment | undefined;
  /** Its live state, while the call still owes it an outcome (a stream reports when it ends). */
  state: DeploymentState | undefined;
  /** Deployments skipped because their breaker was open; the soonest half-open, ms. */
  skipped = 0;
  soonestHalfOpenMs = Number.POSITIVE_INFINITY;
  /** The last upstream failure, for the error when nothing answered. */
  last: unknown;
  inputTokens = 0;
  outputTokens = 0;
  /** The usage the answer reported (or the gateway estimated), for accounting and metrics. */
  usage: Usage | undefined;
  /** What the call cost this caller, micro-USD (0 for a cache hit). */
  costMicros = 0;
  /** ChatStream: ms from the call's start to the first content written. */
  firstTokenMs: number | undefined;
  /** context_overflow TRIM: what was trimmed for each deployment (context-window.ts ContextFit). */
  contextTrims: ReadonlyMap<Deployment, ContextTrim> | undefined;
  constructor(
    readonly ctx: CallContext,
    readonly requested: string,
  ) {}

  /** What was trimmed from the prompt the answering deployment got; undefined when nothing was. */
  contextTrim(): ContextTrim | undefined {
    return this.deployment && this.contextTrims?.get(this.deployment);
  }

  info(): GatewayInfo {
    return create(GatewayInfoSchema, {
      attempts: this.trail.length,
      latencyMs: performance.now() - this.t0,
      upstreamLatencyMs: this.upstreamMs,
      requestId: this.ctx.requestId,
      attemptTrail: this.trail,
      contextTrim: this.contextTrim(),
    });
  }
}
