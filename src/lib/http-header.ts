// What may go into an upstream request's header section: a token name, a value that cannot break
// the framing, and none of the headers the HTTP client writes itself. Checked once, at load, by
// the config schema (extra provider headers); undici refuses a bad header per request on its own.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE = /[\r\n\0]/;
/** Framing and connection headers: the client owns them. (`host` may be overridden.) */
const OWN = new Set([
  "content-length",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "expect",
  "te",
]);

/** Why `name: value` cannot be sent, or undefined when it can. */
export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}`;
  if (OWN.has(name.toLowerCase())) return `header ${JSON.stringify(name)} is set by the HTTP client`;
  if (UNSAFE.test(value)) return `header ${JSON.stringify(name)} has a line break or NUL in its value`;
  return undefined;
}
