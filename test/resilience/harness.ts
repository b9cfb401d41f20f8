// Shared harness of the resilience tests: the OpenAI fake, gateways started from YAML against it,
// Connect clients, and helpers to count what the fake received per tagged model string.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  type ChatRequestSchema,
  type ChatStreamResponse,
  LLMService,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type OpenAIFake, type RecordedRequest, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

export const KEY = "sk-test-resilience-0123456789";
export type LLMClient = Client<typeof LLMService>;
type ChatInit = MessageInitShape<typeof ChatRequestSchema>;

/** One fake and any number of gateways in front of it; `close` stops everything. */
export class Rig {
  private managers: Http2SessionManager[] = [];
  private gateways: TestGateway[] = [];
  private constructor(readonly fake: OpenAIFake) {}

  static async start(): Promise<Rig> {
    return new Rig(await startOpenAIFake({ apiKey: KEY }));
  }

  /** A gateway with this YAML (OPENAI_BASE_URL = the fake), and a Connect client for it. */
  async gateway(yaml = ""): Promise<{ gw: TestGateway; client: LLMClient }> {
    const gw = await startGateway({ env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: this.fake.url }, yaml });
    this.gateways.push(gw);
    const sessionManager = new Http2SessionManager(gw.url);
    this.managers.push(sessionManager);
    const client = createClient(
      LLMService,
      createConnectTransport({ baseUrl: gw.url, httpVersion: "2", sessionManager }),
    );
    return { gw, client };
  }

  /** Upstream requests whose model string carries `+t=<tag>`. */
  requests(tag: string): RecordedRequest[] {
    return this.fake.requests.filter((r) => modelOf(r).split("+").includes(`t=${tag}`));
  }

  indexOf(tag: string): number {
    return this.fake.requests.findIndex((r) => modelOf(r).split("+").includes(`t=${tag}`));
  }

  async close(): Promise<void> {
    for (const m of this.managers) m.abort();
    await Promise.all(this.gateways.map((g) => g.close()));
    await this.fake.close();
  }
}

function modelOf(r: RecordedRequest): string {
  const b = r.body;
  if (typeof b !== "object" || b === null) return "";
  const m = (b as Record<string, unknown>)["model"];
  return typeof m === "string" ? m : "";
}

/** A chat request with one user message. */
export function chatReq(model: string, text = "hello", fallbackModels: string[] = []): ChatInit {
  return {
    model,
    fallbackModels,
    messages: [{ role: Role.USER, content: [{ part: { case: "text", value: text } }] }],
  };
}

/** The error a call fails with (the test fails if it succeeds). */
export async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e: unknown) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

export function reasonOf(err: ConnectError): string | undefined {
  return err.findDetails(ErrorInfoSchema)[0]?.reason;
}

export async function collect(
  stream: AsyncIterable<ChatStreamResponse>,
): Promise<{ events: ChatStreamResponse[]; error?: ConnectError }> {
  const events: ChatStreamResponse[] = [];
  try {
    for await (const ev of stream) events.push(ev);
    return { events };
  } catch (e: unknown) {
    return { events, error: ConnectError.from(e) };
  }
}
