import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

/**
 * Where the service's `.proto` lies (it ships beside the compiled code), for users who generate clients.
 *
 * @publicApi
 */
export const GRPC_PREDICT_V2_PROTO = join(__dirname, 'grpc_predict_v2.proto');

/** The fully qualified service name. @publicApi */
export const GRPC_INFERENCE_SERVICE = 'inference.GRPCInferenceService';

/** Methods whose messages the hand-written codecs handle: grpc-js passes their bytes through untouched. */
const RAW_METHODS = new Set(['ModelInfer', 'ModelStreamInfer']);

/** A request message that did not parse; handlers answer it INVALID_ARGUMENT instead of grpc-js's INTERNAL. @internal */
export class MalformedMessage {
  constructor(readonly reason: string) {}
}

/** The service as served, and the package it came from (for reflection). @internal */
export interface LoadedService {
  definition: ServiceDefinition;
  packageDefinition: PackageDefinition;
}

function passThrough(value: Buffer): Buffer {
  return value;
}

/**
 * Loads `grpc_predict_v2.proto` once, at boot. ModelInfer and ModelStreamInfer keep their messages as bytes
 * (decoded and encoded by the converter, typed arrays straight from the wire); every other request decoder is
 * wrapped so malformed bytes become a {@link MalformedMessage} rather than grpc-js's INTERNAL.
 *
 * @internal
 */
export function loadInferenceService(): LoadedService {
  const packageDefinition = loadSync(GRPC_PREDICT_V2_PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = packageDefinition[GRPC_INFERENCE_SERVICE] as ServiceDefinition;
  const methods: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(loaded)) {
    methods[name] = RAW_METHODS.has(name) ? (passBytes(method) as MethodDefinition<unknown, unknown>) : guardDecoder(method);
  }
  return { definition: methods as ServiceDefinition, packageDefinition };
}

function passBytes(method: MethodDefinition<unknown, unknown>): MethodDefinition<Buffer, Buffer> {
  return {
    ...method,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  };
}

function guardDecoder(method: MethodDefinition<unknown, unknown>): MethodDefinition<unknown, unknown> {
  const decode = method.requestDeserialize;
  return {
    ...method,
    requestDeserialize: (bytes: Buffer): unknown => {
      try {
        return decode(bytes);
      } catch (err) {
        return new MalformedMessage(err instanceof Error ? err.message : String(err));
      }
    },
  };
}
