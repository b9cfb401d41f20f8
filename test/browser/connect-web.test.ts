// A real browser (Debian Chromium driven by playwright-core) calls the gateway through
// @connectrpc/connect-web: Connect JSON, Connect binary and gRPC-Web, unary and server streaming,
// and an error whose google.rpc.ErrorInfo is decoded in the page. The page is served from another
// port than the gateway, so every call is cross-origin and goes through the gateway's CORS
// (preflight included); a gateway without `cors_origins` must be refused by the browser.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { launchChromium } from "./chromium.js";
import type { BrowserApi, BrowserProtocol, StreamEvent } from "./client.js";

const CLIENT_ENTRY = fileURLToPath(new URL("./client.ts", import.meta.url));
const CHAT_PATH = "/llmgateway.v1.LLMService/Chat";

/** Why the setup failed, if it did. */
let setupError: Error | undefined;
let gw: TestGateway | undefined;
let noCorsGw: TestGateway | undefined;
let site: Server | undefined;
let siteOrigin = "";
let browser: Browser | undefined;
let page: Page | undefined;
/** Every response Chromium received from the CORS-enabled gateway (type "Preflight" for preflights). */
const gatewayResponses: { type: string; url: string; status: number; headers: Record<string, string> }[] = [];
/** Uncaught page errors and console errors, reported if a test fails. */
const pageProblems: string[] = [];

function requirePage(): Page {
  if (!page) throw new Error("browser page not started (see the beforeAll error)");
  return page;
}

function gatewayUrl(): string {
  if (!gw) throw new Error("gateway not started");
  return gw.url;
}

/** Bundles test/browser/client.ts for the browser. */
async function bundleClient(): Promise<string> {
  const out = await build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    format: "esm",
    write: false,
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error("esbuild produced no output");
  return file.text;
}

/** A static site on its own port: the page and the bundle. */
async function startSite(bundle: string): Promise<Server> {
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>llm-gateway connect-web</title></head>' +
    '<body><script type="module" src="/client.js"></script></body></html>';
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/" || url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(html);
    } else if (url === "/client.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      res.end(bundle);
    } else if (url === "/favicon.ico") {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return server;
}

/** A plain HTTP/1.1 request from Node (lets us set Origin, which fetch treats specially). */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.end(body);
  });
}

/** Runs one of the bundle's functions in the page. */
function inPage<K extends keyof BrowserApi>(
  name: K,
  ...args: Parameters<BrowserApi[K]>
): Promise<Awaited<ReturnType<BrowserApi[K]>>> {
  return requirePage().evaluate(
    ([fn, fnArgs]) => {
      const g = globalThis as unknown as { llmgw: Record<string, (...a: unknown[]) => Promise<unknown>> };
      const f = g.llmgw[fn];
      if (!f) throw new Error(`llmgw.${fn} missing`);
      return f(...fnArgs);
    },
    [name, args] as const,
  ) as Promise<Awaited<ReturnType<BrowserApi[K]>>>;
}

beforeAll(async () => {
  try {
    gw = await startGateway({ yaml: 'server:\n  cors_origins: ["*"]\n' });
    noCorsGw = await startGateway();
    site = await startSite(await bundleClient());
    siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("pageerror", (e) => pageProblems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") pageProblems.push(`console: ${m.text()}`);
    });
    // Chromium's own view of the network (CDP), which, unlike page events, includes CORS preflights.
    const gwUrl = gw.url;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    cdp.on("Network.responseReceived", (e) => {
      if (!e.response.url.startsWith(gwUrl)) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.response.headers)) headers[k.toLowerCase()] = String(v);
      gatewayResponses.push({ type: e.type, url: e.response.url, status: e.response.status, headers });
    });
    await page.goto(`${siteOrigin}/`, { waitUntil: "load" });
    await page.waitForFunction(() => "llmgw" in globalThis, undefined, { timeout: 10_000 });
  } catch (e: unknown) {
    setupError = e instanceof Error ? e : new Error(String(e));
  }
}, 60_000);

// A broken setup (e.g. a missing package) fails every test with its message; nothing is skipped.
beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await page?.close().catch(() => {});
  await browser?.close().catch(() => {});
  if (site) {
    site.closeAllConnections();
    await new Promise<void>((r) => site?.close(() => r()));
  }
  await gw?.close();
  await noCorsGw?.close();
}, 30_000);

describe("browser (Chromium) via @connectrpc/connect-web, cross-origin", () => {
  it("serves the page from another origin than the gateway", () => {
    expect(new URL(siteOrigin).origin).not.toBe(new URL(gatewayUrl()).origin);
    expect(pageProblems).toEqual([]);
  });

  const unary: BrowserProtocol[] = ["connect-json", "connect-binary", "grpc-web"];
  for (const protocol of unary) {
    it(`Chat over ${protocol}`, async () => {
      const res = await inPage("chat", gatewayUrl(), protocol, `hello from ${protocol}`);
      expect(res).toMatchObject({
        protocol,
        model: "mock/echo",
        provider: "mock",
        text: `echo: hello from ${protocol}`,
        finishReason: "STOP",
      });
      expect(res.totalTokens).toBeGreaterThan(0);
    });
  }

  for (const protocol of ["connect-json", "grpc-web"] as const) {
    it(`ChatStream over ${protocol}: start, deltas, end`, async () => {
      const text = "the quick brown fox";
      const { events } = await inPage("chatStream", gatewayUrl(), protocol, text);
      const kinds = events.map((e) => e.kind);
      expect(kinds[0]).toBe("start");
      expect(kinds.at(-1)).toBe("end");
      expect(kinds.slice(1, -1).every((k) => k === "delta")).toBe(true);
      const deltas = events.filter((e): e is Extract<StreamEvent, { kind: "delta" }> => e.kind === "delta");
      expect(deltas.length).toBeGreaterThan(1); // streamed word by word
      expect(deltas.map((d) => d.text).join("")).toBe(`echo: ${text}`);
      expect(events[0]).toMatchObject({ kind: "start", model: "mock/echo", provider: "mock" });
      expect(events.at(-1)).toMatchObject({ kind: "end", finishReason: "STOP" });
    });
  }

  for (const protocol of ["connect-json", "grpc-web"] as const) {
    it(`an unknown model over ${protocol} gives NotFound with ErrorInfo MODEL_NOT_FOUND`, async () => {
      const res = await inPage("chatError", gatewayUrl(), protocol, "nope/x");
      expect(res.failed).toBe(true);
      expect(res.code).toBe("NotFound");
      expect(res.reasons).toContain("MODEL_NOT_FOUND");
      expect(res.domains).toContain("llmgateway");
    });
  }

  it("Chromium preflighted the calls and got CORS headers on every answer", async () => {
    // A raw fetch with a custom header: needs a preflight, and reading x-request-id back needs
    // access-control-expose-headers.
    const url = gatewayUrl() + CHAT_PATH;
    const seen = await requirePage().evaluate(async (target) => {
      const res = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "browser-cors-1" },
        body: JSON.stringify({
          model: "mock/echo",
          messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
        }),
      });
      return { status: res.status, requestId: res.headers.get("x-request-id"), body: await res.text() };
    }, url);
    expect(seen.status).toBe(200);
    expect(seen.requestId).toBe("browser-cors-1");
    expect(seen.body).toContain("echo: hi");
    // Make sure a streaming call ran too, whatever order the tests ran in.
    await inPage("chatStream", gatewayUrl(), "connect-json", "cors");

    // Chromium preflighted the calls (and cached the answer per URL for access-control-max-age).
    const preflights = gatewayResponses.filter((r) => r.type === "Preflight");
    expect(preflights.map((r) => new URL(r.url).pathname)).toEqual(
      expect.arrayContaining([CHAT_PATH, "/llmgateway.v1.LLMService/ChatStream"]),
    );
    for (const r of preflights) {
      expect(r.status).toBe(204);
      expect(r.headers["access-control-allow-origin"]).toBe("*");
      expect(r.headers["access-control-allow-headers"]).toContain("connect-protocol-version");
    }
    // Every actual call's answer carried the CORS headers.
    const calls = gatewayResponses.filter((r) => r.type === "Fetch");
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const r of calls) {
      expect(r.headers["access-control-allow-origin"]).toBe("*");
      expect(r.headers["access-control-expose-headers"]).toContain("grpc-status-details-bin");
    }
  });

  it("the gateway answers a preflight with the CORS headers Connect and gRPC-Web need", async () => {
    const res = await rawRequest(gatewayUrl() + CHAT_PATH, "OPTIONS", {
      origin: siteOrigin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version,x-grpc-web,x-user-agent",
    });
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    const allowHeaders = String(res.headers["access-control-allow-headers"]);
    for (const h of ["content-type", "connect-protocol-version", "x-grpc-web", "x-user-agent"])
      expect(allowHeaders).toContain(h);
    expect(String(res.headers["access-control-allow-methods"])).toContain("POST");
    expect(String(res.headers["access-control-expose-headers"])).toContain("grpc-status-details-bin");
  });

  it("a gateway without cors_origins is refused by the browser", async () => {
    if (!noCorsGw) throw new Error("gateway not started");
    const res = await inPage("chatError", noCorsGw.url, "connect-json", "mock/echo");
    expect(res.failed).toBe(true);
    expect(res.code).not.toBe("NotFound");
    // And the gateway itself sends no CORS header there.
    const pre = await rawRequest(noCorsGw.url + CHAT_PATH, "OPTIONS", {
      origin: siteOrigin,
      "access-control-request-method": "POST",
    });
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
