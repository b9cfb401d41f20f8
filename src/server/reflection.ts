// Owns gRPC server reflection (grpc.reflection.v1 and v1alpha ServerReflectionInfo) over protobuf-es descriptors.
import {
  type DescFile,
  type DescMessage,
  type Message,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { create } from "../lib/create.js";

/** What a reflection client can ask; v1 and v1alpha requests share this shape. */
interface ReflectionRequest {
  host: string;
  messageRequest:
    | {
        case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices";
        value: string;
      }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/** The answer to one request; v1 and v1alpha responses share this shape (minus original_request). */
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/** Lookup tables over a set of files and all their transitive dependencies. */
interface ReflectionIndex {
  services: string[];
  byFilename: Map<string, DescFile>;
  bySymbol: Map<string, DescFile>;
  /** extendee full name -> extension number -> declaring file */
  extensions: Map<string, Map<number, DescFile>>;
}

function buildIndex(files: Iterable<DescFile>, services: Iterable<string>): ReflectionIndex {
  const index: ReflectionIndex = {
    services: [],
    byFilename: new Map(),
    bySymbol: new Map(),
    extensions: new Map(),
  };
  const addExtension = (extendee: string, n: number, file: DescFile): void => {
    let numbers = index.extensions.get(extendee);
    if (!numbers) {
      numbers = new Map();
      index.extensions.set(extendee, numbers);
    }
    numbers.set(n, file);
  };
  const addMessage = (message: DescMessage, file: DescFile): void => {
    index.bySymbol.set(message.typeName, file);
    for (const field of message.fields) index.bySymbol.set(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) index.bySymbol.set(`${message.typeName}.${oneof.name}`, file);
    for (const e of message.nestedEnums) index.bySymbol.set(e.typeName, file);
    for (const x of message.nestedExtensions) {
      index.bySymbol.set(x.typeName, file);
      addExtension(x.extendee.typeName, x.number, file);
    }
    for (const nested of message.nestedMessages) addMessage(nested, file);
  };
  const addFile = (file: DescFile): void => {
    if (index.byFilename.has(file.proto.name)) return;
    index.byFilename.set(file.proto.name, file);
    for (const dep of file.dependencies) addFile(dep);
    for (const service of file.services) {
      index.bySymbol.set(service.typeName, file);
      for (const method of service.methods) index.bySymbol.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) addMessage(message, file);
    for (const e of file.enums) index.bySymbol.set(e.typeName, file);
    for (const x of file.extensions) {
      index.bySymbol.set(x.typeName, file);
      addExtension(x.extendee.typeName, x.number, file);
    }
  };
  for (const file of files) addFile(file);
  index.services = [...new Set(services)].sort();
  return index;
}

/** `file` first, then its transitive dependencies, each once, serialized as FileDescriptorProto. */
function fileWithDependencies(file: DescFile): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const visit = (f: DescFile): void => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    for (const dep of f.dependencies) visit(dep);
  };
  visit(file);
  return out;
}

function notFound(message: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: message } };
}

function answer(index: ReflectionIndex, req: ReflectionRequest): ReflectionAnswer {
  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    case "fileByFilename": {
      const file = index.byFilename.get(r.value);
      if (!file) return notFound(`file "${r.value}" not found`);
      return { case: "fileDescriptorResponse", value: { fileDescriptorProto: fileWithDependencies(file) } };
    }
    case "fileContainingSymbol": {
      const file = index.bySymbol.get(r.value.replace(/^\./, ""));
      if (!file) return notFound(`symbol "${r.value}" not found`);
      return { case: "fileDescriptorResponse", value: { fileDescriptorProto: fileWithDependencies(file) } };
    }
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = r.value;
      const file = index.extensions.get(containingType)?.get(extensionNumber);
      if (!file) return notFound(`extension ${extensionNumber} of "${containingType}" not found`);
      return { case: "fileDescriptorResponse", value: { fileDescriptorProto: fileWithDependencies(file) } };
    }
    case "allExtensionNumbersOfType": {
      if (!index.bySymbol.has(r.value)) return notFound(`type "${r.value}" not found`);
      const numbers = [...(index.extensions.get(r.value)?.keys() ?? [])].sort((a, b) => a - b);
      return {
        case: "allExtensionNumbersResponse",
        value: { baseTypeName: r.value, extensionNumber: numbers },
      };
    }
    default:
      return {
        case: "errorResponse",
        value: { errorCode: Code.InvalidArgument, errorMessage: "empty or unsupported message_request" },
      };
  }
}

/**
 * One ServerReflectionInfo handler for either version: answers each request in order, echoing it as
 * original_request. `responseSchema` picks the version; v1 and v1alpha messages have the same shape.
 */
function reflectionInfo<Res extends Message>(
  responseSchema: GenMessage<Res>,
  getIndex: () => ReflectionIndex,
): (requests: AsyncIterable<ReflectionRequest>) => AsyncIterable<Res> {
  return async function* (requests) {
    for await (const req of requests) {
      const init = { validHost: req.host, originalRequest: req, messageResponse: answer(getIndex(), req) };
      // The request is the generated message of the same version, so it is a valid original_request.
      yield create(responseSchema, init as unknown as MessageInitShape<GenMessage<Res>>);
    }
  };
}

/**
 * Registers grpc.reflection.v1 and v1alpha ServerReflection on `router`. Lists the services of
 * `files` and every service registered on the router (looked up at request time, so routes added
 * later count too), and serves their files with all transitive dependencies, well-known types included.
 */
export function registerReflection(router: ConnectRouter, files: DescFile[]): void {
  let cached: { handlers: number; index: ReflectionIndex } | undefined;
  const getIndex = (): ReflectionIndex => {
    if (cached?.handlers !== router.handlers.length) {
      const routed = router.handlers.map((h) => h.service);
      cached = {
        handlers: router.handlers.length,
        index: buildIndex(
          [...files, ...routed.map((s) => s.file)],
          [...files.flatMap((f) => f.services), ...routed].map((s) => s.typeName),
        ),
      };
    }
    return cached.index;
  };
  router.rpc(
    v1.ServerReflection.method.serverReflectionInfo,
    reflectionInfo(v1.ServerReflectionResponseSchema, getIndex),
  );
  router.rpc(
    v1alpha.ServerReflection.method.serverReflectionInfo,
    reflectionInfo(v1alpha.ServerReflectionResponseSchema, getIndex),
  );
}
