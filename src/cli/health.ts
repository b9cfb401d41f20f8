// `llm-gateway health`: a probe for containers and humans. Asks a running gateway's plain-HTTP
// /readyz (or /healthz) — open without a key, like grpc.health.v1 — and exits 0 only when serving.
import { type Args, intFlag, parseArgs, UsageError } from "./args.js";
import type { CliIo } from "./client.js";

/** The gateway's base URL: --url, LLMGW_URL, or the local port the server would listen on. */
function baseUrl(a: Args, io: CliIo): URL {
  const url =
    a.flags.get("url") ?? io.env["LLMGW_URL"] ?? `http://127.0.0.1:${io.env["LLMGW_PORT"] || "8080"}`;
  try {
    return new URL(url);
  } catch {
    throw new UsageError(`--url: "${url}" is not a URL`);
  }
}

export async function healthCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs(argv, ["ready", "live"], ["url", "timeout-ms"]);
  if (a.positionals.length > 0) throw new UsageError(`health takes no argument ("${a.positionals[0]}")`);
  if (a.flags.has("ready") && a.flags.has("live"))
    throw new UsageError("--ready and --live exclude each other");
  const path = a.flags.has("live") ? "/healthz" : "/readyz";
  const target = new URL(path, baseUrl(a, io));
  const timeoutMs = intFlag(a, "timeout-ms") ?? 3000;
  let res: Response;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e: unknown) {
    const why = e instanceof Error && e.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : causeOf(e);
    io.err(`llm-gateway health: ${target.origin} unreachable: ${why}`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as { status?: unknown; detail?: unknown };
  const status = typeof body.status === "string" ? body.status : `HTTP ${res.status}`;
  const detail = typeof body.detail === "string" && body.detail !== "" ? `: ${body.detail}` : "";
  if (res.status === 200) {
    io.out(status);
    return 0;
  }
  io.err(`${status}${detail}`);
  return 1;
}

function causeOf(e: unknown): string {
  const cause =
    e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === "string") return cause.code;
  return e instanceof Error ? e.message : String(e);
}
