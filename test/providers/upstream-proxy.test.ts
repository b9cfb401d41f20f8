// Upstream calls through a forward proxy: a local CONNECT proxy (node http 'connect') that must see
// the traffic, reached through providers.<name>.proxy and through HTTPS_PROXY / HTTP_PROXY, NO_PROXY
// bypassing it, `proxy: none`, proxy credentials (never logged) and a refusal (407) that fails fast.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import { createOpenAIProvider } from "../../src/providers/openai/index.js";
import type { Provider } from "../../src/providers/types.js";
import { type TransportSettings, transportNotes } from "../../src/providers/upstream.js";
import { chatReq, textOf } from "../e2e/helpers.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { rejection } from "./helpers.js";

const KEY = "sk-test-proxy-0123456789";
let fake: OpenAIFake;
let proxy: Server;
let proxyUrl = "";
/** CONNECT requests the proxy received: target and Proxy-Authorization. */
const tunnels: { target: string; auth: string | undefined }[] = [];
/** When set, the proxy answers 407 unless this Proxy-Authorization comes. */
let requiredAuth: string | undefined;
const sockets = new Set<Socket>();
const providers: Provider[] = [];

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: KEY });
  proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on("connect", (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on("error", () => {});
    const auth = req.headers["proxy-authorization"];
    tunnels.push({ target: req.url ?? "", auth });
    if (requiredAuth !== undefined && auth !== requiredAuth) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n");
      return;
    }
    const [host, port] = (req.url ?? "").split(":");
    const up = connect(Number(port), host ?? "", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on("error", () => client.destroy());
    client.on("close", () => up.destroy());
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  tunnels.length = 0;
  requiredAuth = undefined;
  fake.reset();
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  proxy.close();
  await fake.close();
});

const upstreamTarget = () => new URL(fake.url).host;

/** An OpenAI-wire provider on the fake with these transport settings. */
function provider(transport: TransportSettings): Provider {
  const p = createOpenAIProvider({ name: "proxied", baseUrl: fake.url, apiKey: KEY, transport });
  providers.push(p);
  return p;
}

const ask = (p: Provider) =>
  p.chat(chatReq("proxied/gpt-4o-mini", "through the proxy"), {
    signal: new AbortController().signal,
    model: "gpt-4o-mini",
    requestId: "req-proxy",
  });

/** Runs `f` with these environment variables set, then restores them (the agent reads them when built). */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("upstream proxy", () => {
  it("providers.<name>.proxy: the call goes through the proxy's CONNECT tunnel, and the answer comes back", async () => {
    const res = await ask(provider({ proxy: proxyUrl }));
    expect(textOf(res.message?.content)).not.toBe("");
    expect(tunnels.map((t) => t.target)).toEqual([upstreamTarget()]);
    expect(fake.requests).toHaveLength(1);
  });

  it("HTTP_PROXY from the environment is honoured (an http:// upstream), and the start log names it", async () => {
    const res = await withEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: "" }, () => ask(provider({})));
    expect(textOf(res.message?.content)).not.toBe("");
    expect(tunnels.map((t) => t.target)).toEqual([upstreamTarget()]);
    const notes = transportNotes("proxied", {}, [fake.url], { HTTP_PROXY: proxyUrl });
    expect(notes.info).toEqual([
      `provider proxied: upstream ${new URL(fake.url).origin} via proxy ${proxyUrl} (HTTP_PROXY)`,
    ]);
  });

  it("NO_PROXY naming the upstream's host bypasses the environment's proxy; proxy: none ignores it", async () => {
    await withEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: "localhost,127.0.0.1" }, () => ask(provider({})));
    await withEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: "" }, () => ask(provider({ proxy: "none" })));
    expect(tunnels).toEqual([]);
    expect(fake.requests).toHaveLength(2);
    const env = { HTTP_PROXY: proxyUrl, NO_PROXY: "127.0.0.1" };
    expect(transportNotes("proxied", {}, [fake.url], env).info[0]).toMatch(/ direct \(NO_PROXY\)$/);
  });

  it("proxy credentials go to the proxy as Basic auth, never into the start log", async () => {
    requiredAuth = `Basic ${Buffer.from("gw:s3cret-pass").toString("base64")}`;
    const withCreds = proxyUrl.replace("http://", "http://gw:s3cret-pass@");
    await ask(provider({ proxy: withCreds }));
    expect(tunnels.map((t) => t.auth)).toEqual([requiredAuth]);
    const notes = transportNotes("proxied", { proxy: withCreds }, [fake.url], {});
    expect(notes.info[0]).toContain(`via proxy ${proxyUrl} (providers.proxied.proxy)`);
    expect(JSON.stringify(notes)).not.toContain("s3cret");
  });

  it("a proxy refusing the tunnel (407) is a protocol error naming it: no retry, nothing reaches the upstream", async () => {
    requiredAuth = "Basic nope";
    const e = await rejection(ask(provider({ proxy: proxyUrl })));
    expect(e).toBeInstanceOf(UpstreamError);
    expect((e as UpstreamError).kind).toBe("protocol");
    expect((e as UpstreamError).message).toContain("proxy refused the tunnel: Proxy response (407)");
    expect(tunnels).toHaveLength(1);
    expect(fake.requests).toHaveLength(0);
  });
});
