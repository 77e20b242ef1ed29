import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { TRACE_PROTOCOLS } from './config/tracing-config';

/** How the spans are sent: the OTLP/HTTP protocol and, when the config file names one, the traces endpoint. */
export interface TraceExportInit {
  readonly protocol: (typeof TRACE_PROTOCOLS)[number];
  /** Unset: the exporter reads `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` itself. */
  readonly url?: string;
}

/** Each OTLP/HTTP protocol's encoding of a batch of spans and the content type it is posted with. */
export const TRACE_FORMATS = {
  'http/json': { serializer: JsonTraceSerializer, contentType: 'application/json' },
  'http/protobuf': { serializer: ProtobufTraceSerializer, contentType: 'application/x-protobuf' },
} as const;

/** What the server's thread asks of the export thread. */
export type ExportRequest =
  | { readonly id: number; readonly kind: 'export'; readonly bytes: Uint8Array; readonly spans: number }
  | { readonly id: number; readonly kind: 'flush' | 'shutdown' };

/** The export thread's answer to request `id`: `error` when it failed. */
export interface ExportReply {
  readonly id: number;
  readonly error?: string;
}
