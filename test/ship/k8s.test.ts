// deploy/k8s: every manifest parsed and validated against the Kubernetes API schemas
// (kubernetes-models; ServiceMonitor with the Prometheus Operator's), the pieces wired to each other
// (labels, ports, names), gRPC probes, a grace period above the gateway's drain, and the
// ConfigMap's config accepted by the gateway's own loader with the env each overlay gives it.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { type IPodDisruptionBudget, PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, type IConfigMap, type IService, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadGatewayConfig, repoPath } from "./support.js";

type Doc = { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, unknown>;
const MODELS: Record<string, new (d: never) => { validate(): void }> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

const K8S = repoPath("deploy/k8s");
const dirs = ["base", "overlays/with-redis", "overlays/external-redis"];
function docsOf(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, "utf8")).map((d) => {
    expect(d.errors, `${file}: ${d.errors.join("; ")}`).toEqual([]);
    return d.toJS() as Doc;
  });
}
const manifests = dirs.flatMap((d) =>
  readdirSync(join(K8S, d))
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .map((f) => join(d, f)),
);
const all = (dir: string): Doc[] =>
  manifests.filter((m) => m.startsWith(`${dir}/`)).flatMap((m) => docsOf(join(K8S, m)));
const find = <T>(docs: Doc[], kind: string, name?: string): T => {
  const d = docs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  expect(d, `no ${kind} ${name ?? ""}`).toBeDefined();
  return d as unknown as T;
};

const base = all("base");
const deployment = find<IDeployment>(base, "Deployment", "llm-gateway");
const pod = deployment.spec!.template.spec!;
const gateway = pod.containers.find((c) => c.name === "gateway")!;
const configMap = find<IConfigMap>(base, "ConfigMap", "llm-gateway-config");
const baseEnv = find<IConfigMap>(base, "ConfigMap", "llm-gateway-env").data ?? {};
const secretKeys = find<{ stringData: Record<string, string> }>(base, "Secret").stringData;

/** The container's env as the kubelet builds it: envFrom in order (later wins), then env. */
function containerEnv(envConfigMap: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...envConfigMap };
  // The Secret comes after the ConfigMap; a digest gets a digest's shape.
  for (const k of Object.keys(secretKeys))
    env[k] = k.endsWith("_SHA256") ? createHash("sha256").update("admin").digest("hex") : `value-of-${k}`;
  for (const e of gateway.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}
function configWith(envConfigMap: Record<string, string>) {
  return loadGatewayConfig({ text: configMap.data!["gateway.yaml"]! }, containerEnv(envConfigMap));
}

describe("Kubernetes manifests", () => {
  it.each(manifests)("%s validates against the API schema", (file) => {
    for (const doc of docsOf(join(K8S, file))) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${file}: no model for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new Model!(doc as never).validate()).not.toThrow();
    }
  });

  it("the validation is live: a gRPC probe port as a string is refused", () => {
    const broken = structuredClone(deployment) as unknown as Doc;
    const spec = (broken as unknown as IDeployment).spec!.template.spec!;
    (spec.containers[0]!.livenessProbe!.grpc as unknown as { port: string }).port = "http";
    expect(() => new Deployment(broken as never).validate()).toThrow(/port must be integer/);
  });

  it.each(dirs)("%s/kustomization.yaml lists files that exist", (dir) => {
    const k = docsOf(join(K8S, dir, "kustomization.yaml"))[0] as {
      resources?: string[];
      patches?: { path: string }[];
    };
    for (const r of [...(k.resources ?? []), ...(k.patches ?? []).map((p) => p.path)])
      expect(existsSync(join(K8S, dir, r)), `${dir}: ${r}`).toBe(true);
  });

  it("probes liveness and readiness over gRPC health on the serving port", () => {
    const port = gateway.ports?.find((p) => p.name === "http")?.containerPort;
    expect(port).toBe(8080);
    expect(gateway.livenessProbe?.grpc).toEqual({ port, service: "liveness" });
    expect(gateway.readinessProbe?.grpc).toEqual({ port, service: "readiness" });
    expect(gateway.startupProbe?.grpc?.service).toBe("liveness");
  });

  it("gives the drain time: terminationGracePeriodSeconds > preStop + server.shutdown_grace_ms", () => {
    const grace = configWith(baseEnv).server.shutdownGraceMs;
    const preStop = Number(gateway.lifecycle?.preStop?.exec?.command?.[1] ?? 0) * 1000;
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(grace + preStop);
  });

  it("runs non-root on a read-only root filesystem with requests and a memory limit", () => {
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).not.toBe(0);
    expect(gateway.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(gateway.resources?.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(gateway.resources?.limits?.["memory"]).toBeDefined();
    // Writable places on a read-only root: /tmp and the runtime keys file's folder.
    const mounts = new Map((gateway.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    const keysFile = configWith(baseEnv).file.auth?.keys_file ?? "";
    for (const path of ["/tmp", dirname(keysFile)]) {
      const m = mounts.get(path);
      expect(m, `${path} is mounted`).toBeDefined();
      expect(pod.volumes?.find((v) => v.name === m!.name)?.emptyDir).toBeDefined();
    }
  });

  it("reads its config from the ConfigMap and its keys from the Secret", () => {
    const env = new Map((gateway.env ?? []).map((e) => [e.name, e.value]));
    const configPath = env.get("LLMGW_CONFIG")!;
    const mount = gateway.volumeMounts?.find((m) => m.mountPath === dirname(configPath));
    const volume = pod.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.configMap?.name).toBe(configMap.metadata!.name);
    expect(Object.keys(configMap.data ?? {})).toContain(configPath.split("/").pop());
    expect(gateway.envFrom).toEqual([
      { configMapRef: { name: "llm-gateway-env" } },
      { secretRef: { name: "llm-gateway-keys", optional: true } },
    ]);
    const config = configWith(baseEnv);
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.redisUrl ?? "").toBe(""); // empty: in-memory state
    const openai = config.providers.find((p) => p.name === "openai");
    expect(openai?.apiKey).toBe("value-of-OPENAI_API_KEY");
    // With no Secret, the gateway still starts: mock only, providers disabled with a warning.
    const keyless = loadGatewayConfig({ text: configMap.data!["gateway.yaml"]! }, { ...baseEnv });
    expect(keyless.providers.map((p) => p.name)).toEqual(["mock"]);
  });

  it("wires Service, PodDisruptionBudget, HorizontalPodAutoscaler and ServiceMonitor to the pods", () => {
    const labels = deployment.spec!.template.metadata!.labels!;
    const service = find<IService>(base, "Service", "llm-gateway");
    expect(labels).toMatchObject(service.spec!.selector!);
    expect(service.spec!.ports?.[0]).toMatchObject({ name: "http", port: 8080, targetPort: "http" });
    const pdb = find<IPodDisruptionBudget>(base, "PodDisruptionBudget");
    expect(labels).toMatchObject(pdb.spec!.selector!.matchLabels!);
    expect(pdb.spec!.minAvailable).toBe(1);
    const hpa = find<IHorizontalPodAutoscaler>(base, "HorizontalPodAutoscaler");
    expect(hpa.spec!.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "llm-gateway",
    });
    expect(hpa.spec!.minReplicas).toBeGreaterThan(pdb.spec!.minAvailable as number);
    const sm = find<{
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    }>(base, "ServiceMonitor");
    expect(service.metadata!.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: "http", path: "/metrics" })]);
    expect(configWith(baseEnv).file.telemetry?.metrics).toBe(true);
  });

  it("overlays/with-redis: an in-cluster Redis and every replica pointed at it", () => {
    const docs = all("overlays/with-redis");
    const env = find<IConfigMap>(docs, "ConfigMap", "llm-gateway-env").data!;
    const config = configWith(env);
    const url = new URL(config.redisUrl!);
    const svc = find<IService>(docs, "Service", url.hostname);
    expect(svc.spec!.ports?.[0]?.port).toBe(Number(url.port));
    const redis = find<IDeployment>(docs, "Deployment", "llm-gateway-redis");
    expect(redis.spec!.template.metadata!.labels).toMatchObject(svc.spec!.selector!);
    expect(redis.spec!.template.spec!.containers[0]!.readinessProbe?.exec?.command).toEqual([
      "redis-cli",
      "ping",
    ]);
  });

  it("overlays/external-redis: only the Redis URL", () => {
    const docs = all("overlays/external-redis");
    expect(docs.map((d) => d.kind)).toEqual(["ConfigMap"]);
    const config = configWith(find<IConfigMap>(docs, "ConfigMap", "llm-gateway-env").data!);
    expect(config.redisUrl).toMatch(/^rediss?:\/\//);
  });
});
