// Renders the gateway's errors for Connect / gRPC / gRPC-Web clients: a ConnectError with real
// google.rpc details (ErrorInfo, RetryInfo, BadRequest) that any gRPC client can decode.

import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { GatewayError, type StatusCode } from "../errors.js";
import { create } from "../lib/create.js";

/** The error domain in every ErrorInfo. */
export const ERROR_DOMAIN = "llmgateway";

const CODES: Record<StatusCode, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  NOT_FOUND: Code.NotFound,
  INTERNAL: Code.Internal,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  CANCELLED: Code.Canceled,
  UNIMPLEMENTED: Code.Unimplemented,
  PERMISSION_DENIED: Code.PermissionDenied,
  UNAUTHENTICATED: Code.Unauthenticated,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
};

/** Converts anything a handler threw into the ConnectError the client receives. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (!(e instanceof GatewayError)) {
    return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  }
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, {
        reason: e.reason,
        domain: ERROR_DOMAIN,
        metadata: e.details.metadata ?? {},
      }),
    },
  ];
  if (e.details.retryAfterMs !== undefined) {
    details.push({
      desc: RetryInfoSchema,
      value: create(RetryInfoSchema, { retryDelay: durationFromMs(e.details.retryAfterMs) }),
    });
  }
  if (e.details.violations?.length) {
    details.push({
      desc: BadRequestSchema,
      value: create(BadRequestSchema, { fieldViolations: e.details.violations }),
    });
  }
  return new ConnectError(e.message, CODES[e.code], undefined, details, e);
}
