// The AdminService client of the operator commands: a Connect transport over HTTP/1.1 to --url
// (or LLMGW_URL), the admin key from --admin-key or LLMGW_ADMIN_KEY (never printed), and one-line errors.
import http from "node:http";
import https from "node:https";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/llmgateway/v1/admin_pb.js";
import { secretFromEnv } from "../config/secret-files.js";
import { type Args, UsageError } from "./args.js";

/** Where the CLI writes, and the environment it reads. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

/** Flags every server command takes. */
export const CLIENT_FLAGS = ["url", "admin-key"] as const;

export const DEFAULT_URL = "http://127.0.0.1:8080";

/** An AdminService client for the parsed flags (UsageError without an admin key). */
export function adminClient(a: Args, io: CliIo): Client<typeof AdminService> {
  const url = a.flags.get("url") ?? io.env["LLMGW_URL"] ?? DEFAULT_URL;
  const key = a.flags.get("admin-key") ?? secretFromEnv(io.env, "LLMGW_ADMIN_KEY", (m) => new UsageError(m));
  if (!key)
    throw new UsageError("no admin key: set LLMGW_ADMIN_KEY or LLMGW_ADMIN_KEY_FILE (or pass --admin-key)");
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError(`--url: "${url}" is not a URL`);
  }
  // One connection per call, closed after it: the command exits as soon as it is done.
  const agent =
    base.protocol === "https:" ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  const transport = createConnectTransport({
    baseUrl: base.toString(),
    httpVersion: "1.1",
    nodeOptions: { agent },
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${key}`);
        return next(req);
      },
    ],
  });
  return createClient(AdminService, transport);
}

/** One line for an error: the status code, the ErrorInfo reason and the message. Never a key. */
export function errorLine(e: unknown): string {
  if (e instanceof UsageError) return `llm-gateway: ${e.message}`;
  const ce = ConnectError.from(e);
  const reason = ce.findDetails(ErrorInfoSchema)[0]?.reason;
  const code = Code[ce.code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return `llm-gateway: ${code}${reason ? ` ${reason}` : ""}: ${ce.rawMessage}`;
}
