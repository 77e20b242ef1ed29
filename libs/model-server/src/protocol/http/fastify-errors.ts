import type { FastifyError } from 'fastify';
import { clip } from '../../errors/clip.util';
import { isModelServerError, type ModelServerError } from '../../errors/model-server.error';
import { invalidRequest, payloadTooLarge, unsupportedContentType } from '../../errors';

/**
 * Fastify's own refusals (body over the limit, a content type no parser takes, other 4xx) as catalogue errors
 * with messages that say what to do; anything else is left as it is (a server fault). The one translation
 * every Fastify-served route uses.
 *
 * @internal
 */
export function fromFastify(error: FastifyError | ModelServerError, maxBodyBytes: number): unknown {
  if (isModelServerError(error)) return error;
  const status = error.statusCode;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) return payloadTooLarge(maxBodyBytes);
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) return unsupportedContentType(undefined, clip(error.message));
  if (status !== undefined && status >= 400 && status < 500) return invalidRequest(clip(error.message));
  return error;
}
