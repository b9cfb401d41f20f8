// The telemetry an app sets up once: Prometheus metrics (on unless telemetry.metrics: false) and, when
// telemetry.otlp_endpoint is set, OpenTelemetry traces; attach(gateway) registers their call observers.
import type { GatewayConfig } from "../config/index.js";
import type { Logger } from "../lib/logger.js";
import type { RedisLink } from "../redis/client.js";
import { CallMetrics } from "./call-metrics.js";
import { type LabelSource, ModelLabels } from "./labels.js";
import { type BreakerSource, GatewayMetrics } from "./metrics.js";
import type { CallObserver } from "./observer.js";
import type { Tracing } from "./tracing.js";

export type { GatewayMetrics } from "./metrics.js";

/**
 * What telemetry sees of a pipeline (a Gateway is one): it takes call observers, shows its breakers
 * at scrape time, and holds what model labels are decided from. Telemetry never imports the pipeline.
 */
export interface ObservedGateway extends BreakerSource, LabelSource {
  observe(o: CallObserver): void;
}

/** What setupTelemetry needs: the config, and thunks (the gateway may be replaced at run time). */
export interface TelemetryDeps {
  config: GatewayConfig;
  log: Logger;
  gateway: () => ObservedGateway | undefined;
  redis: () => RedisLink | undefined;
  /** Calls and streams in flight across generations (config reloads). */
  inflight: () => { calls: number; streams: number };
}

/** Metrics and traces of one app. */
export interface Telemetry {
  /** Registers the call observers on `gateway`; call it again with the new one after a config reload. */
  attach(gateway: ObservedGateway): void;
  /** The Prometheus metrics (GET /metrics); undefined when telemetry.metrics is false. */
  readonly metrics: GatewayMetrics | undefined;
  /** Traces; undefined when telemetry.otlp_endpoint is unset (then nothing is traced at all). */
  readonly tracing: Tracing | undefined;
  /** Flushes queued spans and stops the exporter. */
  close(): Promise<void>;
}

/** Creates the registry and (only when an OTLP endpoint is configured) the tracer. */
export async function setupTelemetry(deps: TelemetryDeps): Promise<Telemetry> {
  const t = deps.config.file.telemetry ?? {};
  let labels: ModelLabels | undefined;
  const metrics =
    t.metrics === false
      ? undefined
      : new GatewayMetrics(t.metrics_key_labels === true, {
          gateway: deps.gateway,
          redis: deps.redis,
          labels: () => labels,
          inflight: deps.inflight,
        });
  let tracing: Tracing | undefined;
  const endpoint = t.otlp_endpoint?.trim();
  if (endpoint) {
    // Loaded only when used: with no endpoint the OpenTelemetry SDK is never imported.
    const { createTracing, tracesUrl } = await import("./tracing.js");
    tracing = createTracing(endpoint, t.service_name ?? "llm-gateway");
    deps.log.info({ otlp: tracesUrl(endpoint) }, "exporting traces");
  }
  return {
    metrics,
    tracing,
    attach(gateway) {
      if (metrics) {
        labels = new ModelLabels(gateway);
        gateway.observe(new CallMetrics(metrics, labels));
      }
      if (tracing) gateway.observe(tracing.observer);
    },
    close: async () => {
      await tracing?.close();
    },
  };
}
