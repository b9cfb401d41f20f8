// The resilience toolkit's public surface: the outcome table, retry timing and budget, breakers and
// the live per-deployment state routing and the pipeline share.

export { backoffMs, MIN_ATTEMPT_MS, retryWaitMs } from "./backoff.js";
export { Breaker, type BreakerPolicy, type BreakerState, OPEN, type Trial } from "./breaker.js";
export { RetryBudget } from "./budget.js";
export {
  DeploymentRegistry,
  type DeploymentSnapshot,
  DeploymentState,
  type StatePolicy,
} from "./deployments.js";
export { decide, type Outcome, outcomeFor, signalsIllHealth } from "./outcome.js";
