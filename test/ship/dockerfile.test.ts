// The Dockerfile, parsed with dockerfile-ast (the parser of the Docker language server): two
// stages, a slim Node 20 runtime with production dependencies and dist/ only, a non-root user, the
// health probe, the port and the production start command in exec form.
import { readFileSync } from "node:fs";
import {
  type Copy,
  DockerfileParser,
  type From,
  type Instruction,
  type JSONInstruction,
} from "dockerfile-ast";
import { describe, expect, it } from "vitest";

const text = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
const dockerfile = DockerfileParser.parse(text);

/** The instructions of each stage, split at FROM. */
function stages(): Instruction[][] {
  const out: Instruction[][] = [];
  for (const ins of dockerfile.getInstructions()) {
    if (ins.getKeyword() === "FROM") out.push([]);
    out.at(-1)?.push(ins);
  }
  return out;
}
const [build = [], runtime = []] = stages();
const of = (stage: Instruction[], keyword: string) => stage.filter((i) => i.getKeyword() === keyword);
const json = (ins: Instruction) => (ins as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
const args = (ins: Instruction) => ins.getArguments().map((a) => a.getValue());

describe("Dockerfile", () => {
  it("has a build stage and a runtime stage, both slim Node 20.20", () => {
    expect(stages()).toHaveLength(2);
    const froms = dockerfile.getFROMs() as From[];
    expect(froms.map((f) => f.getImageName())).toEqual(["node", "node"]);
    for (const f of froms) expect(f.getImageTag()).toMatch(/^20\.20-.*slim$/);
    expect(froms[0]?.getBuildStage()).toBe("build");
  });

  it("builds with npm ci + npm run build, and the runtime installs production dependencies only", () => {
    const buildRuns = of(build, "RUN").map((r) => r.getArgumentsContent() ?? "");
    expect(buildRuns.some((r) => /npm ci\b/.test(r))).toBe(true);
    expect(buildRuns.some((r) => /npm run build\b/.test(r))).toBe(true);
    const runs = of(runtime, "RUN").map((r) => r.getArgumentsContent() ?? "");
    expect(runs.some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /npm run build|tsc/.test(r))).toBe(false);
  });

  it("copies only dist/ from the build stage, and no sources into the runtime", () => {
    const copies = of(runtime, "COPY") as Copy[];
    const fromBuild = copies.filter((c) => c.getFromFlag()?.getValue() === "build");
    expect(fromBuild).toHaveLength(1);
    expect(args(fromBuild[0]!).slice(0, -1)).toEqual(["/app/dist"]);
    const local = copies.filter((c) => c.getFromFlag() === null).flatMap((c) => args(c).slice(0, -1));
    expect(local.sort()).toEqual(["package-lock.json", "package.json"]);
  });

  it("runs as a non-root user with the container env, port and stop signal", () => {
    const users = of(runtime, "USER");
    expect(users).toHaveLength(1);
    expect(args(users[0]!)[0]).not.toMatch(/^(root|0)(:|$)/);
    const env = new Map(
      dockerfile.getENVs().flatMap((e) => e.getProperties().map((p) => [p.getName(), p.getValue()] as const)),
    );
    expect(env.get("LLMGW_HOST")).toBe("0.0.0.0");
    expect(env.get("LLMGW_PORT")).toBe("8080");
    expect(env.get("NODE_ENV")).toBe("production");
    expect(of(runtime, "EXPOSE").flatMap(args)).toEqual(["8080"]);
    expect(of(runtime, "STOPSIGNAL").flatMap(args)).toEqual(["SIGTERM"]);
  });

  it("has a HEALTHCHECK that runs `llm-gateway health --ready` in exec form", () => {
    const hc = dockerfile.getHEALTHCHECKs();
    expect(hc).toHaveLength(1);
    const content = hc[0]!.getArgumentsContent() ?? "";
    const cmd = JSON.parse(content.slice(content.indexOf("["))) as string[];
    expect(cmd).toEqual(["node", "dist/src/main.js", "health", "--ready"]);
  });

  it("starts dist/src/main.js in exec form with the runtime flags of npm start", () => {
    const cmds = [...of(runtime, "CMD"), ...of(runtime, "ENTRYPOINT")];
    expect(cmds).toHaveLength(1);
    const argv = json(cmds[0]!);
    expect(argv).toEqual(["node", "--max-semi-space-size=64", "dist/src/main.js"]);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts["start:prod"]).toBe(argv.join(" "));
    expect(pkg.scripts["start"]).toContain(argv.slice(1).join(" "));
  });

  it("keeps the build context small (.dockerignore)", () => {
    const ignore = readFileSync(new URL("../../.dockerignore", import.meta.url), "utf8").split("\n");
    for (const p of ["node_modules", "dist", ".git", ".env"]) expect(ignore).toContain(p);
    for (const p of ["src", "gen", "package.json"]) expect(ignore).not.toContain(p);
  });
});
