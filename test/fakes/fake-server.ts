// The HTTP plumbing every upstream fake shares: a keep-alive server on a free loopback port that
// records each request (method, path, headers, parsed body, aborted/finished), reads the JSON body,
// tracks sockets so close() is immediate, and lets tests wait for a client abort.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One request as a fake saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it was not JSON; undefined when empty. */
  body: unknown;
  /** The client closed the connection before the response finished. */
  aborted: boolean;
  /** The response was completely written. */
  finished: boolean;
  /** The client's port: requests with the same one came over the same connection. */
  remotePort?: number;
}

/** One request/response pair in flight. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  rec: RecordedRequest;
  /** The socket closed (either side). */
  closed: boolean;
  /** We destroyed the socket on purpose (reset / drop): not a client abort. */
  killed: boolean;
}

/** What the fake's handler is told about the body (already stored in `ex.rec.body`). */
export interface BodyInfo {
  /** The body was not empty and not JSON; `ex.rec.body` holds the raw text. */
  invalidJson: boolean;
}

export interface FakeServerOptions<R extends RecordedRequest> {
  /** Builds the record for a request; defaults to `recordRequest`. */
  record?: (req: IncomingMessage) => R;
  /** Answers a request whose handler threw; defaults to destroying the response. */
  onCrash?: (res: ServerResponse) => void;
}

/** The shared handle: each fake adds its own `url` (and extras such as counters to reset). */
export interface FakeServerBase<R extends RecordedRequest = RecordedRequest> {
  port: number;
  requests: R[];
  close(): Promise<void>;
  /** Clears `requests`. */
  reset(): void;
  /** Resolves true once requests[index] is aborted by the client, false after timeoutMs. */
  waitForAbort(index: number, timeoutMs: number): Promise<boolean>;
}

/** The handle of a fake whose answers depend on per-model-string call counters (fail_times). */
export interface FakeWithCounters<R extends RecordedRequest = RecordedRequest> extends FakeServerBase<R> {
  url: string;
  /** Clears `requests` and the per-model-string call counters (fail_times). */
  reset(): void;
}

/** Writes a JSON answer (unless the client already left); `headers` go before the content headers. */
export function writeJson(
  ex: Exchange,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  if (ex.closed) return;
  const text = JSON.stringify(payload);
  ex.res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  ex.res.end(text);
}

/** The default record: path without the query string, a copy of the headers, no body yet. */
export function recordRequest(req: IncomingMessage): RecordedRequest {
  return {
    method: req.method ?? "GET",
    path: (req.url ?? "/").split("?")[0] ?? "/",
    headers: { ...req.headers },
    body: undefined,
    aborted: false,
    finished: false,
    ...(req.socket.remotePort === undefined ? {} : { remotePort: req.socket.remotePort }),
  };
}

/** A crash handler answering 500 with `body` (as JSON) unless headers went out already. */
export function crashWith(body: unknown, contentType = "application/json"): (res: ServerResponse) => void {
  return (res) => {
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { "content-type": contentType });
      res.end(JSON.stringify(body));
    } else res.destroy();
  };
}

/**
 * Reads the whole body into `ex.rec.body` (parsed JSON, raw text when not JSON, undefined when
 * empty). Undefined when the client went away mid-body (the close handler recorded it).
 */
async function readBody(ex: Exchange): Promise<BodyInfo | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of ex.req) chunks.push(c as Buffer);
  } catch {
    return undefined;
  }
  const raw = Buffer.concat(chunks).toString("utf8");
  if (raw === "") return { invalidJson: false };
  try {
    ex.rec.body = JSON.parse(raw);
    return { invalidJson: false };
  } catch {
    ex.rec.body = raw;
    return { invalidJson: true };
  }
}

/** Starts a server on 127.0.0.1:0; `handler` runs once the request is recorded and its body read. */
export async function startFakeServer<R extends RecordedRequest = RecordedRequest>(
  handler: (ex: Exchange, body: BodyInfo) => void | Promise<void>,
  opts: FakeServerOptions<R> = {},
): Promise<FakeServerBase<R>> {
  const record = opts.record ?? (recordRequest as (req: IncomingMessage) => R);
  const onCrash = opts.onCrash ?? ((res: ServerResponse) => res.destroy());
  const requests: R[] = [];
  const sockets = new Set<Socket>();
  const abortWaiters = new Set<() => void>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rec = record(req);
    requests.push(rec);
    const ex: Exchange = { req, res, rec, closed: false, killed: false };
    res.on("close", () => {
      ex.closed = true;
      rec.finished = res.writableFinished;
      if (!res.writableFinished && !ex.killed) {
        rec.aborted = true;
        for (const w of abortWaiters) w();
      }
    });
    const body = await readBody(ex);
    if (body === undefined) return;
    await handler(ex, body);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch(() => onCrash(res));
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    requests,
    reset() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
    },
    waitForAbort(index, timeoutMs) {
      if (requests[index]?.aborted) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const check = () => {
          if (requests[index]?.aborted) done(true);
        };
        const done = (v: boolean) => {
          clearTimeout(timer);
          abortWaiters.delete(check);
          resolve(v);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        abortWaiters.add(check);
      });
    },
  };
}
