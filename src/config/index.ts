// Public surface of the configuration folder.
export { ConfigError, type LoadInput, loadConfig, type PresetInfo } from "./load.js";
export type { GatewayConfig, ModelConfig, ModelPolicy, ProviderConfig, Timeouts } from "./types.js";
export { watchFile } from "./watch.js";
