/**
 * The export thread (see `trace-export.ts`): posts the encoded batches of spans it is given to the OTLP/HTTP
 * endpoint with the exporter's own transport (the standard `OTEL_EXPORTER_OTLP_*` settings for endpoint, headers,
 * compression and timeout, retries with back-off, a bounded number of exports in flight).
 */
import { ExportResultCode } from '@opentelemetry/core';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { parentPort, workerData } from 'node:worker_threads';
import { TRACE_FORMATS, type ExportReply, type ExportRequest, type TraceExportInit } from './trace-export.format';

/** A batch as the server's thread encoded it. */
interface EncodedBatch {
  readonly bytes: Uint8Array;
  readonly spans: number;
}

const init = workerData as TraceExportInit;
const format = TRACE_FORMATS[init.protocol];
const port = parentPort!;

const delegate = createOtlpHttpExportDelegate(
  // What each OTLP trace exporter of the SDK is made with (the url, when given, wins over the environment's).
  convertLegacyHttpOptions(init.url === undefined ? {} : { url: init.url }, 'TRACES', 'v1/traces', { 'Content-Type': format.contentType }),
  { serializeRequest: (batch: EncodedBatch) => batch.bytes, deserializeResponse: (data: Uint8Array) => format.serializer.deserializeResponse(data) },
  'otlp_http_span_exporter',
  { name: 'span', countItems: (batch: EncodedBatch) => batch.spans },
  undefined,
);

function reply(id: number, error?: unknown): void {
  const answer: ExportReply = error === undefined ? { id } : { id, error: error instanceof Error ? error.message : String(error) };
  port.postMessage(answer);
}

port.on('message', (request: ExportRequest) => {
  switch (request.kind) {
    case 'export':
      delegate.export({ bytes: request.bytes, spans: request.spans }, (result) => reply(request.id, result.code === ExportResultCode.SUCCESS ? undefined : (result.error ?? 'the export failed')));
      return;
    case 'flush':
      delegate.forceFlush().then(() => reply(request.id), (err: unknown) => reply(request.id, err));
      return;
    case 'shutdown':
      delegate.shutdown().then(() => reply(request.id), (err: unknown) => reply(request.id, err));
      return;
  }
});
