// The gateway's version: reported by Health (GetHealth's `version`) and on every trace's resource
// (service.version). Ground floor: imported by the pipeline and by telemetry alike.
export const VERSION = "0.2.0";
