// The import rules of the house, checked by `npm run check:deps` (part of `npm test`): no import
// circles, and imports only point down the layers below. Type-only imports count as imports.

/**
 * The layers, top to bottom (README, Architecture). A file may import its own layer and any layer
 * below it, never one above. Folders that share a layer may use each other, but never in a circle.
 */
const LAYERS = [
  // The process: reads the config, starts the app or runs an operator command.
  { name: "entry", path: "^src/main\\.ts$" },
  // The doors: protocols in and out (Connect, gRPC, gRPC-Web, REST, admin, probes), the app that
  // wires one gateway together, and the operator CLI (an AdminService client).
  { name: "doors", path: "^src/(server|cli)/" },
  // The pipeline every door calls: admit -> validate -> route -> call -> account.
  { name: "pipeline", path: "^src/gateway/" },
  // The pipeline's parts: who is calling, limits, cache, routing, resilience, budgets and usage,
  // telemetry (it observes the pipeline through interfaces of its own, telemetry/observer.ts), and
  // the shared Redis link.
  { name: "parts", path: "^src/(auth|limits|cache|routing|resilience|billing|telemetry|redis|responses)/" },
  // The providers: proto <-> provider wire, upstream HTTP. They never import the pipeline or its parts.
  { name: "providers", path: "^src/providers/" },
  // What everyone reads: the validated config and the model catalog (providers estimate tokens with it).
  { name: "data", path: "^src/(config|catalog)/" },
  // The ground floor, importing nothing of ours above it: the error taxonomy, the version, lib/
  // (logger, cancel, sleep, codecs, money) and the generated contract.
  { name: "ground", path: "^(src/(errors|version)\\.ts$|src/lib/|gen/)" },
];

/** One rule per layer: nothing in it imports a layer above it. */
const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `${layer.name}-imports-no-layer-above`,
  comment: `${layer.name} sits below ${LAYERS.slice(0, i + 1)
    .map((l) => l.name)
    .join(", ")}: imports only point down (.dependency-cruiser.cjs, LAYERS)`,
  severity: "error",
  from: { path: layer.path },
  to: { path: LAYERS.slice(0, i + 1).map((l) => l.path) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "files that import each other in a loop (type-only imports included)",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "providers-never-import-the-pipeline",
      comment:
        "a provider translates and calls upstream; the pipeline and its parts call it, never the reverse",
      severity: "error",
      from: { path: "^src/providers/" },
      to: {
        path: "^src/(server|cli|gateway|auth|limits|cache|routing|resilience|billing|telemetry|redis|responses)/",
      },
    },
    ...upward,
    {
      name: "every-source-file-in-a-layer",
      comment: "a new folder under src/ must be given a layer in LAYERS before it is imported",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^src/", pathNot: LAYERS.map((l) => l.path) },
    },
  ],
  options: {
    // Type-only imports are part of the architecture even though they vanish at run time.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
  },
};
