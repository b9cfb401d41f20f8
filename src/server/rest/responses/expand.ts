// The conversation a Responses call continues, from the store: `previous_response_id` (its input +
// output first) and `item_reference`s (replaced by the items they name). Everything is read under
// the caller's owner: another key's responses are "not found", exactly like unknown ones.

import type { Caller } from "../../../auth/index.js";
import { GatewayError } from "../../../errors.js";
import type { ResponsesDeps, StoredResponse } from "../../../responses/index.js";
import { responseNotFound, storageDisabled } from "../../../responses/index.js";
import type { Obj } from "../parse.js";
import { responseOfItem } from "./ids.js";

const NO_STORE = "this gateway has no response store";

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The items a stored response hands to the next turn: its input, then its output. */
export function continuationOf(rec: StoredResponse): unknown[] {
  const output = rec.response["output"];
  return [...rec.input, ...(Array.isArray(output) ? output : [])];
}

function itemNotFound(id: string, field: string, why: string): GatewayError {
  const message = `Item with id '${id.slice(0, 100)}' not found: ${why}`;
  return new GatewayError("NOT_FOUND", "RESPONSE_NOT_FOUND", message, {
    violations: [{ field, description: message }],
  });
}

/** Input items with the previous response's conversation in front and every item_reference resolved. */
export async function expandInput(
  input: readonly unknown[],
  previousId: string | undefined,
  caller: Caller,
  rd: ResponsesDeps | undefined,
): Promise<unknown[]> {
  const out: unknown[] = [];
  const records = new Map<string, StoredResponse | undefined>();
  const load = async (owner: string, id: string) => {
    if (!records.has(id)) records.set(id, await rd?.store.get(owner, id));
    return records.get(id);
  };
  if (previousId !== undefined) {
    if (!rd) throw storageDisabled("previous_response_id", NO_STORE);
    const rec = await load(rd.policy.requireOwner(caller, "previous_response_id"), previousId);
    if (!rec) throw responseNotFound(previousId, "previous_response_id");
    out.push(...continuationOf(rec));
  }
  for (let i = 0; i < input.length; i++) {
    const it = input[i];
    if (!isObj(it) || it["type"] !== "item_reference") {
      out.push(it);
      continue;
    }
    const field = `input[${i}].id`;
    const id = it["id"];
    if (typeof id !== "string") throw itemNotFound(String(id), field, "an item_reference needs a string id");
    const respId = responseOfItem(id);
    if (respId === undefined) {
      throw itemNotFound(
        id,
        field,
        "the gateway resolves references only to items of responses it stored; send the item itself",
      );
    }
    if (!rd) throw storageDisabled(field, NO_STORE);
    const rec = await load(rd.policy.requireOwner(caller, "item_reference"), respId);
    const found = rec ? continuationOf(rec).find((x) => isObj(x) && x["id"] === id) : undefined;
    if (found === undefined) {
      throw itemNotFound(
        id,
        field,
        "its response was not stored (store: false, or responses.store_default: false), has expired, or belongs to another key; send the item itself (Vercel AI SDK: providerOptions.openai.store = false)",
      );
    }
    out.push(found);
  }
  return out;
}
