// Upstream bodies on the process-wide budget (providers/body-budget.ts through exchange.ts), against a
// real HTTP server on loopback: every way a body ends gives its bytes back exactly once (read, over the
// cap, over the budget, aborted, reset, discarded mid-stream or ended unread); the caps name their
// settings; the config's defaults and its check.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import { bufferStats, DEFAULT_BODY_LIMITS, setBodyLimits } from "../../src/providers/body-budget.js";
import { discard, readText, request } from "../../src/providers/http.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { listenLocal } from "../helpers/loopback.js";
import { waitFor } from "../helpers/wait.js";
import { rejection } from "./helpers.js";

const KIB = 1024;
const MIB = 1024 * KIB;

let server: Server;
let base = "";
/** Open answers the test can end: by path. */
const open = new Map<string, ServerResponse>();

/** `/n/<bytes>[/hold|/reset]`: that many bytes, then end (or stay open, or reset the connection). */
function route(req: IncomingMessage, res: ServerResponse): void {
  const [, , size = "0", then = "end"] = (req.url ?? "").split("/");
  res.writeHead(200, { "content-type": "text/plain" });
  res.on("error", () => {});
  res.write(Buffer.alloc(Number(size), "a"));
  if (then === "hold") open.set(req.url ?? "", res);
  else if (then === "reset") setImmediate(() => req.socket.destroy());
  else res.end();
}

beforeAll(async () => {
  server = createServer(route);
  base = `http://127.0.0.1:${await listenLocal(server)}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

afterEach(() => setBodyLimits({}));

const get = (path: string, signal = new AbortController().signal) =>
  request({ url: `${base}${path}`, headers: {}, signal, provider: "test" });

const drained = () => waitFor(() => bufferStats().used === 0, { what: "the budget to be given back" });

describe("the caps name their settings", () => {
  it("an answer over server.max_answer_bytes; an embeddings answer over max_embed_answer_bytes", async () => {
    setBodyLimits({ maxAnswerBytes: 1000, maxEmbedAnswerBytes: 3000 });
    const e = await rejection(readText((await get("/n/2000")).body, "test"));
    expect(e).toBeInstanceOf(UpstreamError);
    expect((e as UpstreamError).kind).toBe("protocol");
    expect((e as UpstreamError).message).toBe("upstream answer exceeds 1000 bytes (server.max_answer_bytes)");
    expect(await readText((await get("/n/2000")).body, "test", undefined, "embed")).toHaveLength(2000);
    const e2 = await rejection(readText((await get("/n/4000")).body, "test", undefined, "embed"));
    expect((e2 as UpstreamError).message).toContain("(server.max_embed_answer_bytes)");
    await drained();
  });

  it("a body that arrived whole before it was read is held to the cap too", async () => {
    const r = await get("/n/5000");
    await waitFor(() => r.body.ended, { what: "the body to arrive" });
    expect(bufferStats().used).toBe(5000);
    const e = await rejection(readText(r.body, "test", undefined, 1000));
    expect((e as UpstreamError).kind).toBe("protocol");
    expect(bufferStats().used).toBe(0);
  });
});

describe("the process-wide budget", () => {
  it("a read past it fails with GATEWAY_OVERLOADED and cuts the answer; a read within it passes", async () => {
    setBodyLimits({ bufferBytes: 64 * KIB });
    const holder = await get("/n/40000/hold");
    await waitFor(() => bufferStats().used === 40_000, { what: "the held answer to arrive" });
    const e = await rejection(readText((await get(`/n/${30 * KIB}`)).body, "test"));
    expect(e).toBeInstanceOf(GatewayError);
    expect((e as GatewayError).code).toBe("RESOURCE_EXHAUSTED");
    expect((e as GatewayError).reason).toBe("GATEWAY_OVERLOADED");
    expect((e as GatewayError).details.metadata).toMatchObject({
      provider: "test",
      upstream_buffer_bytes: "65536",
    });
    expect(bufferStats().used).toBe(40_000); // the refused read gave back what it had taken
    expect(await readText((await get("/n/20000")).body, "test")).toHaveLength(20_000);
    open.get("/n/40000/hold")?.end();
    expect(await readText(holder.body, "test")).toHaveLength(40_000);
    expect(bufferStats().used).toBe(0);
  });

  it("an aborted read, a reset connection and a stream discarded mid-way give everything back", async () => {
    const ac = new AbortController();
    const aborted = await get("/n/30000/hold", ac.signal);
    const reading = rejection(readText(aborted.body, "test", ac.signal));
    await waitFor(() => bufferStats().used === 30_000, { what: "the answer to arrive" });
    ac.abort(new Error("caller gone"));
    expect(await reading).toHaveProperty("message", "caller gone");
    expect(bufferStats().used).toBe(0);

    const reset = await get("/n/30000/reset");
    expect(await rejection(readText(reset.body, "test"))).toBeInstanceOf(UpstreamError);
    expect(bufferStats().used).toBe(0);

    // A stream: the reader takes one chunk and leaves; what is queued goes back with discard.
    const s = await get(`/n/${MIB}/hold`);
    await waitFor(() => bufferStats().used > 0, { what: "chunks to queue" });
    for await (const _chunk of s.body) break;
    discard(s.body);
    expect(bufferStats().used).toBe(0);
    open.get(`/n/${MIB}/hold`)?.end();

    // An ended stream never read: discard drops its queue.
    const unread = await get("/n/20000");
    await waitFor(() => unread.body.ended, { what: "the body to arrive" });
    expect(bufferStats().used).toBe(20_000);
    discard(unread.body);
    expect(bufferStats().used).toBe(0);
  });
});

describe("configuration", () => {
  const load = (yaml: string) => {
    const file = join(mkdtempSync(join(tmpdir(), "llmgw-")), "config.yaml");
    writeFileSync(file, yaml);
    return loadConfig({ argv: ["--config", file], env: {}, presets: presetInfo, implementedTypes });
  };

  it("defaults are the ones the HTTP layer starts with; a budget below one answer is refused naming the field", () => {
    expect(load("{}\n").server.upstreamLimits).toEqual(DEFAULT_BODY_LIMITS);
    expect(() => load("server: { upstream_buffer_bytes: 1048576 }\n")).toThrow(
      /server\.upstream_buffer_bytes/,
    );
    expect(
      load(
        "server: { upstream_buffer_bytes: 4096, max_answer_bytes: 4096, max_embed_answer_bytes: 4096, max_event_bytes: 1024 }\n",
      ).server.upstreamLimits,
    ).toEqual({
      maxAnswerBytes: 4096,
      maxEmbedAnswerBytes: 4096,
      maxEventBytes: 1024,
      bufferBytes: 4096,
    });
  });
});
