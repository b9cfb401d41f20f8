// A real browser (Debian Chromium via playwright-core) on the gateway's TLS port (server.tls): the
// page is served by the gateway's own origin over HTTPS, ALPN picks HTTP/2, and a Connect JSON call
// and a REST call made with fetch() from the page are answered. Chromium trusts exactly the test
// server's key (--ignore-certificate-errors-spki-list), nothing else.
import { createHash, createPublicKey } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { TestPki } from "../helpers/pki.js";
import { launchChromium } from "./chromium.js";

const pki = new TestPki();
pki.ca("ca", "Test CA");
const server = pki.server("server", "ca");
const spki = createHash("sha256")
  .update(createPublicKey(server.cert).export({ type: "spki", format: "der" }))
  .digest("base64");

let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  gw = await startGateway({
    yaml: `server:\n  tls: { cert_file: ${server.certFile}, key_file: ${server.keyFile} }\n`,
  });
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${spki}`]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

it("Chromium loads the gateway over HTTPS with HTTP/2 and calls Connect JSON and REST from the page", async () => {
  const page = await browser.newPage();
  const nav = await page.goto(`${gw.url}/v1/models`);
  expect(nav?.status()).toBe(200);
  const result = await page.evaluate(async () => {
    // The page's navigation entry (DOM type, not in Node's lib): how it was fetched.
    const nav = performance.getEntries()[0] as unknown as { nextHopProtocol: string };
    const protocol = nav.nextHopProtocol;
    const body = JSON.stringify({
      model: "mock/echo",
      messages: [{ role: "ROLE_USER", content: [{ text: "tls" }] }],
    });
    const connect = await fetch("/llmgateway.v1.LLMService/Chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }).then((r) => r.json() as Promise<{ message: { content: { text: string }[] } }>);
    const rest = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "rest" }] }),
    }).then((r) => r.json() as Promise<{ choices: { message: { content: string } }[] }>);
    return { protocol, connect: connect.message.content[0]?.text, rest: rest.choices[0]?.message.content };
  });
  expect(result).toEqual({ protocol: "h2", connect: "echo: tls", rest: "echo: rest" });
  await page.close();
}, 60_000);
