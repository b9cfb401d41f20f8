// The pino logger: JSON lines, asynchronous writes (logging never blocks a call), and redaction of
// every credential-bearing field, whatever object it appears in.
import pino, { type DestinationStream, type Logger } from "pino";

/** Paths pino replaces with "[redacted]" wherever they appear. */
export const REDACT_PATHS = [
  "apiKey",
  "api_key",
  "*.apiKey",
  "*.api_key",
  "*.*.apiKey",
  "*.*.api_key",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  '*.headers["x-api-key"]',
  '*.headers["x-goog-api-key"]',
  '*["x-api-key"]',
  '*["x-goog-api-key"]',
  "key",
  "*.key",
];

/** Creates the process logger; `dest` lets tests capture every line. */
export function createLogger(level: string, dest?: DestinationStream): Logger {
  const stream = dest ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level,
      base: { svc: "llm-gateway" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

export type { Logger };
