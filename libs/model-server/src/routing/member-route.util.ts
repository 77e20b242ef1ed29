import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { ErrorCode } from '../errors/error-code.enum';
import { ModelServerError } from '../errors/model-server.error';
import type { DataPlane } from '../inference/data-plane';
import { isModelRouter } from './model-router.base';
import { ROUTER_MEMBER_PARAMETER } from './router.constants';

/**
 * The request a transport sends the router `model` for MLRun's router URL form
 * (`/v2/models/:router[/versions/:v]/:member/infer`): the same request, pinned to `member` by the
 * `router_member` parameter, so it still runs through the data plane and the router. A model that is not a router,
 * or a member the router does not have, is a 404; a router that is not ready a 503.
 *
 * @internal
 */
export function pinToMember(dataPlane: DataPlane, model: string, version: string | undefined, wire: WireInferenceRequest, member: string): WireInferenceRequest {
  const instance = dataPlane.readyVersion(model, version).instance;
  if (!isModelRouter(instance)) {
    throw new ModelServerError(ErrorCode.NotFound, `model '${model}' is not a router, so it has no member '${member}'`);
  }
  instance.member(member);
  return { ...wire, parameters: { ...wire.parameters, [ROUTER_MEMBER_PARAMETER]: member } };
}
