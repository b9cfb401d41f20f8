// Cost in integer micro-dollars (src/catalog priceMicros): every token class at its rate, reasoning
// inside output, exact where floats are not (0.29 x 50 is 14.4999... in binary; it is 14.5 -> 15),
// one rounding, half up, beyond 2^53 pico-dollars too; the reservation bound; prices of <= 6 decimals.
import { describe, expect, it } from "vitest";
import {
  CatalogError,
  loadCatalog,
  maxCostMicros,
  type Price,
  priceMicros,
  priceUsd,
} from "../../src/catalog/index.js";

function usage(input: number, output: number, cached = 0, written = 0) {
  return { inputTokens: input, outputTokens: output, cachedInputTokens: cached, cacheWriteTokens: written };
}

const gpt4o: Price = { input: 2.5, output: 10, cachedInput: 1.25 };
const sonnet: Price = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };

describe("priceMicros", () => {
  it("prices input and output at their rates, exactly", () => {
    // 1234 x 2.50 + 567 x 10.00 = 3085 + 5670 micro-dollars.
    expect(priceMicros(gpt4o, usage(1234, 567))).toBe(8755);
    expect(priceMicros(gpt4o, usage(1_000_000, 1_000_000))).toBe(12_500_000);
  });

  it("bills cache reads and cache writes inside the prompt at their own rates", () => {
    // 10 000 prompt tokens: 6 000 cache reads x 0.30 = 1800, 3 000 writes x 3.75 = 11 250,
    // the other 1 000 x 3 = 3000; 1 000 output x 15 = 15 000. Total 31 050.
    expect(priceMicros(sonnet, usage(10_000, 1_000, 6_000, 3_000))).toBe(31_050);
    // Without cache rates in the catalog, reads and writes cost the input rate.
    expect(priceMicros({ input: 2, output: 8 }, usage(1000, 0, 400, 100))).toBe(2000);
  });

  it("counts reasoning tokens once, inside output", () => {
    const u = { ...usage(0, 1_000_000), reasoningTokens: 900_000 };
    expect(priceMicros({ input: 2, output: 8, cachedInput: 0.5 }, u)).toBe(8_000_000);
  });

  it("rounds once, half up, from the exact sum (not from floats)", () => {
    // 50 x 0.29 = 14.5 exactly (a float multiply gives 14.499999999999998).
    expect(priceMicros({ input: 0.29, output: 0 }, usage(50, 0))).toBe(15);
    // 50 x 0.57 = 28.5 (float: 28.499999999999996).
    expect(priceMicros({ input: 0, output: 0.57 }, usage(0, 50))).toBe(29);
    // Parts are summed before rounding: 1 x 0.4 + 1 x 0.4 = 0.8 -> 1 (two roundings would give 0).
    expect(priceMicros({ input: 0.4, output: 0.4 }, usage(1, 1))).toBe(1);
    // 3 x 0.15 = 0.45 -> 0; 4 x 0.15 = 0.6 -> 1; 2 x 0.25 = 0.5 -> 1; 6 x 0.25 = 1.5 -> 2.
    expect(priceMicros({ input: 0.15, output: 0 }, usage(3, 0))).toBe(0);
    expect(priceMicros({ input: 0.15, output: 0 }, usage(4, 0))).toBe(1);
    expect(priceMicros({ input: 0.25, output: 0 }, usage(2, 0))).toBe(1);
    expect(priceMicros({ input: 0.25, output: 0 }, usage(6, 0))).toBe(2);
    // Six decimals: 7 x 0.000001 = 0.000007 micro-dollars -> 0; 1e6 tokens x 0.000001 = 1.
    expect(priceMicros({ input: 0.000001, output: 0 }, usage(7, 0))).toBe(0);
    expect(priceMicros({ input: 0.000001, output: 0 }, usage(1_000_000, 0))).toBe(1);
  });

  it("stays exact past 2^53 pico-dollars", () => {
    // 2 147 483 647 x 1.25 = 2 684 354 558.75 and 2 147 483 647 x 15 = 32 212 254 705: 34 896 609 263.75.
    expect(priceMicros({ input: 1.25, output: 15 }, usage(2_147_483_647, 2_147_483_647))).toBe(
      34_896_609_264,
    );
    // 2 000 000 001 x 150 = 300 000 000 150 (3e17 pico-dollars).
    expect(priceMicros({ input: 150, output: 600 }, usage(2_000_000_001, 0))).toBe(300_000_000_150);
  });

  it("never goes negative on inconsistent counts", () => {
    // 50 cache reads of a 10-token prompt: the 10 are reads, 10 x 1.25 = 12.5 -> 13.
    expect(priceMicros(gpt4o, usage(10, 0, 50))).toBe(13);
    // Writes beyond what reads left: 10 prompt tokens, 4 reads (x 0.3 = 1.2), 6 writes (x 3.75 = 22.5).
    expect(priceMicros(sonnet, usage(10, 0, 4, 100))).toBe(24);
    expect(priceMicros(gpt4o, usage(-5, -1, -3, -2))).toBe(0);
    expect(priceMicros(gpt4o, usage(Number.NaN, 2))).toBe(20);
  });

  it("is what priceUsd and Catalog.costUsd report, divided by 1e6", () => {
    const catalog = loadCatalog();
    const u = usage(12_345, 678, 2_000, 0);
    // gpt-4o: 10 345 x 2.5 = 25 862.5, 2 000 x 1.25 = 2 500, 678 x 10 = 6 780: 35 142.5 -> 35 143.
    expect(catalog.costMicros("gpt-4o", u)).toBe(35_143);
    expect(catalog.costUsd("gpt-4o", u)).toBe(0.035143);
    expect(priceUsd(gpt4o, u)).toBe(0.035143);
    expect(catalog.costMicros("nope/nope", u)).toBeUndefined();
    expect(catalog.costMicros("ollama/llama3.2", u)).toBe(0);
  });
});

describe("maxCostMicros (the budget reservation)", () => {
  it("bills every prompt token at the input rate and max output at the output rate", () => {
    // 1 000 x 2.5 + 500 x 10.
    expect(maxCostMicros(gpt4o, 1000, 500)).toBe(7500);
    // No cache discount assumed: the same prompt with reads would cost less.
    expect(maxCostMicros(sonnet, 10_000, 1_000)).toBe(45_000);
    expect(priceMicros(sonnet, usage(10_000, 1_000, 9_000))).toBeLessThan(45_000);
    const catalog = loadCatalog();
    expect(catalog.maxCostMicros("claude-sonnet", 10_000, 1_000)).toBe(45_000);
    expect(catalog.maxCostMicros("nope/nope", 1, 1)).toBeUndefined();
  });
});

describe("price validation", () => {
  it("accepts prices of up to 6 decimals and rejects more, naming the model", () => {
    expect(loadCatalog({ "openai/gpt-4o": { price: { input: 2.123456 } } }).get("gpt-4o")?.price?.input).toBe(
      2.123456,
    );
    expect(() => loadCatalog({ "openai/gpt-4o": { price: { input: 2.1234567 } } })).toThrow(CatalogError);
    expect(() => loadCatalog({ "openai/gpt-4o": { price: { cache_write: 0.0000001 } } })).toThrow(
      /openai\/gpt-4o.*6 decimals/s,
    );
  });
});
