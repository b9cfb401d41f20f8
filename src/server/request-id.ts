// The request id every door stamps on a call (x-request-id): the client's own when it is sane, else
// one made here, unique within the process (pid and start time in base 36, then a counter).
let counter = 0;
const prefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;

/** The request id: the client's x-request-id (if sane), else a new one. */
export function requestIdFrom(given: string | null | undefined): string {
  return given && given.length <= 128 ? given : prefix + (++counter).toString(36);
}
