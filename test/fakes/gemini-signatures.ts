// Thought signatures in the Gemini fake, as Gemini 3 models handle them
// (https://ai.google.dev/gemini-api/docs/thought-signatures): the fake signs the first functionCall
// part of an answer (only the first of parallel calls), the last part of a text answer and signed
// thoughts; it refuses (400 INVALID_ARGUMENT) a signature it never issued, and, for `gemini-3*`
// models, a current turn whose steps' first functionCall part lacks its signature.
import { randomBytes } from "node:crypto";
import { badRequestBody, type GoogleErrorBody, path } from "./gemini-faults.js";

/** The dummies Gemini documents for calls it did not make; accepted in place of a signature. */
export const DUMMY_SIGNATURES: ReadonlySet<string> = new Set([
  "skip_thought_signature_validator",
  "context_engineering_is_the_way_to_go",
]);

/** Gemini 3-style models sign their answers and validate the current turn. */
export function signsThoughts(base: string): boolean {
  return base.startsWith("gemini-3");
}

/** The signatures one fake issued. */
export class SignatureBook {
  private readonly issued = new Set<string>();

  /** A new opaque signature (base64 like Gemini's). */
  issue(): string {
    const s = randomBytes(24).toString("base64");
    this.issued.add(s);
    return s;
  }

  clear(): void {
    this.issued.clear();
  }

  /** The error Gemini answers a request with bad or missing signatures with; undefined when fine. */
  check(reqBody: unknown, strict: boolean): GoogleErrorBody | undefined {
    const contents = path(reqBody, "contents");
    if (!Array.isArray(contents)) return undefined;
    for (let i = 0; i < contents.length; i++) {
      const parts = path(contents[i], "parts");
      if (!Array.isArray(parts)) continue;
      for (let j = 0; j < parts.length; j++) {
        const sig = path(parts[j], "thoughtSignature");
        if (sig === undefined) continue;
        if (typeof sig !== "string" || !(this.issued.has(sig) || DUMMY_SIGNATURES.has(sig))) {
          return badRequestBody(
            `Corrupted thought signature at contents[${i}].parts[${j}]. Thought signatures must be passed back exactly as received.`,
          );
        }
      }
    }
    return strict ? missingInCurrentTurn(contents) : undefined;
  }
}

function startsTurn(c: unknown): boolean {
  const parts = path(c, "parts");
  return (
    path(c, "role") !== "model" &&
    Array.isArray(parts) &&
    parts.some((p) => path(p, "functionResponse") === undefined)
  );
}

/** Gemini 3's rule: in the current turn, every step's first functionCall part carries its signature. */
function missingInCurrentTurn(contents: unknown[]): GoogleErrorBody | undefined {
  let k = contents.length - 1;
  while (k >= 0 && !startsTurn(contents[k])) k--;
  for (let i = k + 1; i < contents.length; i++) {
    if (path(contents[i], "role") !== "model") continue;
    const parts = path(contents[i], "parts");
    if (!Array.isArray(parts)) continue;
    const first: unknown = parts.find((p) => path(p, "functionCall") !== undefined);
    if (first === undefined || path(first, "thoughtSignature") !== undefined) continue;
    const name = String(path(first, "functionCall", "name"));
    return badRequestBody(
      `Function call \`${name}\` in the \`${i + 1}.\` content block is missing a \`thought_signature\`. Learn more: https://ai.google.dev/gemini-api/docs/thought-signatures`,
    );
  }
  return undefined;
}
