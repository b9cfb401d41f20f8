// Public surface of the auth folder: gateway keys (config file + runtime store), the admin key, the
// call guard, and key administration for AdminService.
export { AdminGuard } from "./admin.js";
export { createKeyStore, keysFilePath } from "./create-store.js";
export { type Caller, CallGuard } from "./guard.js";
export { TrustedProxies } from "./ip.js";
export {
  type CertMatch,
  type ConfigKey,
  configKeyEntry,
  type GatewayKey,
  type KeyEntry,
  type KeyLimits,
  KeyRing,
  type KeySource,
  newKey,
  presentedKey,
  sha256,
} from "./keys.js";
export { KeyAdmin, type KeyUpdate, type KeyView, type NewKeySpec } from "./manage.js";
export { type MergedKeys, mergeKeys } from "./merge.js";
export { ModelAllowList } from "./models.js";
export { KeyStore, type RuntimeKey } from "./store.js";
