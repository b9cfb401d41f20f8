// The gateway's version, from package.json (one version everywhere): reported by Health, by
// `llm-gateway --version` and on every trace's resource (service.version). Ground floor: imported
// by the pipeline, telemetry and the CLI alike. tsc emits package.json next to dist/src, so the
// same import works from the sources and from the build.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
