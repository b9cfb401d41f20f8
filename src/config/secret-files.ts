// Secrets from files (Kubernetes Secrets, Docker secrets): every secret env var NAME also accepts
// NAME_FILE, and every secret YAML key also accepts <key>_file (relative to the config file). The
// file's content is the value, trailing newlines trimmed. Setting both is an error naming both; an
// unreadable file is an error naming the setting and the path. A secret never appears in a message.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** Builds the error the loader throws (ConfigError; passed in to keep this file free of load.ts). */
export type Fail = (message: string) => Error;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Secret env vars the loader reads besides the providers' key variables (README "Secrets from
 * files"). The CLI's LLMGW_ADMIN_KEY is read with secretFromEnv where the CLI reads it.
 */
export const SECRET_ENV = ["REDIS_URL", "LLMGW_ADMIN_KEY_SHA256"] as const;

/** Secret YAML keys: the path of the key, "*" for any provider name. */
const SECRET_KEYS: readonly (readonly string[])[] = [
  ["providers", "*", "api_key"],
  ["redis", "url"],
  ["auth", "admin_sha256"],
];

/** The content of a secret file, trailing newlines trimmed; `what` names the setting in errors. */
export function readSecretFile(what: string, path: string, fail: Fail): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
    throw fail(`${what}: cannot read ${path} (${code})`);
  }
  return text.replace(/[\r\n]+$/, "");
}

/** One env secret: NAME, or the content of the file NAME_FILE names; both set is an error. */
export function secretFromEnv(env: Env, name: string, fail: Fail): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (!file) return direct;
  if (direct) throw fail(`${name} and ${name}_FILE are both set: set one of them`);
  return readSecretFile(`${name}_FILE`, file, fail);
}

/** The env with every NAME_FILE of `names` read into NAME (the input is not changed). */
export function envWithSecretFiles(env: Env, names: Iterable<string>, fail: Fail): Env {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of new Set(names)) {
    const v = secretFromEnv(env, name, fail);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The objects at `path` (with "*" matching every key) and their dotted names. */
function parents(tree: unknown, path: readonly string[], at = ""): [string, Record<string, unknown>][] {
  if (!isObject(tree)) return [];
  if (path.length === 0) return [[at, tree]];
  const [head = "", ...rest] = path;
  const keys = head === "*" ? Object.keys(tree) : [head];
  return keys.flatMap((k) => parents(tree[k], rest, at ? `${at}.${k}` : k));
}

/**
 * The parsed YAML tree (env already substituted) with every secret `<key>_file` read into `<key>`
 * and removed; paths are relative to `baseDir` (the config file's folder). Changes the tree in place.
 */
export function yamlWithSecretFiles(tree: unknown, baseDir: string, fail: Fail): unknown {
  for (const keyPath of SECRET_KEYS) {
    const key = keyPath[keyPath.length - 1] ?? "";
    for (const [at, obj] of parents(tree, keyPath.slice(0, -1))) {
      const fileKey = `${key}_file`;
      if (!(fileKey in obj)) continue;
      const name = `${at}.${fileKey}`;
      const file = obj[fileKey];
      if (typeof file !== "string" || file === "")
        throw fail(`${name}: the path of a file holding the secret`);
      if (typeof obj[key] === "string" && obj[key] !== "")
        throw fail(`${at}.${key} and ${name} are both set: set one of them`);
      obj[key] = readSecretFile(name, resolve(baseDir, file), fail);
      delete obj[fileKey];
    }
  }
  return tree;
}

const DIGEST = /^[0-9a-fA-F]{64}$/;

/**
 * LLMGW_ADMIN_KEY_SHA256 (or its _FILE, already read into the env) as auth.admin_sha256; like every
 * LLMGW_* variable it wins over the file. Not 64 hex digits: an error naming the variable.
 */
export function withAdminDigest<F extends { auth?: { admin_sha256?: string | undefined } | undefined }>(
  file: F,
  env: Env,
  fail: Fail,
): F {
  const digest = env["LLMGW_ADMIN_KEY_SHA256"]?.trim();
  if (!digest) return file;
  if (!DIGEST.test(digest))
    throw fail("LLMGW_ADMIN_KEY_SHA256: not the hex SHA-256 of the admin key (64 hex digits)");
  return { ...file, auth: { ...file.auth, admin_sha256: digest } };
}
