// Shared bits of the AdminService suites: an admin key pair, Connect clients with a bearer key,
// error decoding, polling until a condition holds within a bound, and the CLI as a child process.
import { execFile } from "node:child_process";
import http from "node:http";
import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService } from "../../gen/llmgateway/v1/admin_pb.js";
import { newKey } from "../../src/auth/keys.js";
import { ROOT } from "../e2e/helpers.js";
import { waitFor } from "../helpers/wait.js";

/** A fresh admin key and its digest (for auth.admin_sha256). */
export function adminPair(): { key: string; sha256: string } {
  return newKey();
}

const agents: http.Agent[] = [];

/** An AdminService client over Connect (HTTP/1.1) sending `key` as a bearer token (none if undefined). */
export function admin(url: string, key: string | undefined): Client<typeof AdminService> {
  const agent = new http.Agent({ keepAlive: true });
  agents.push(agent);
  return createClient(
    AdminService,
    createConnectTransport({
      baseUrl: url,
      httpVersion: "1.1",
      nodeOptions: { agent },
      interceptors: [
        (next) => (req) => {
          if (key !== undefined) req.header.set("authorization", `Bearer ${key}`);
          return next(req);
        },
      ],
    }),
  );
}

/** Closes the keep-alive agents of every client made so far. */
export function closeClients(): void {
  for (const a of agents.splice(0)) a.destroy();
}

/** The ConnectError a call failed with, with its ErrorInfo reason (fails if the call succeeded). */
export async function failure(p: Promise<unknown>): Promise<ConnectError & { reason: string | undefined }> {
  try {
    await p;
  } catch (e: unknown) {
    const ce = ConnectError.from(e);
    return Object.assign(ce, { reason: ce.findDetails(ErrorInfoSchema)[0]?.reason });
  }
  throw new Error("the call succeeded; expected an error");
}

/** Polls `check` every 25 ms until it returns true; the ms it took, or throws after `withinMs`. */
export async function within(withinMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  await waitFor(check, { timeoutMs: withinMs, what, everyMs: 25 });
  return performance.now() - t0;
}

/** The outcome of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx src/main.ts ...args` (asynchronously: an in-process gateway keeps serving). */
export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/main.ts", ...args],
      // Starting Node + tsx takes ~1 s on a quiet machine and was seen over 20 s on a busy one.
      { cwd: ROOT, env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
