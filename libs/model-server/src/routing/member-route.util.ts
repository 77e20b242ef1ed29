import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import type { DataPlane } from '../inference/data-plane';
import { isModelRouter } from './model-router.base';
import { ROUTER_MEMBER_PARAMETER } from './router.constants';
import { notARouter } from '../errors';

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
    throw notARouter(model, member);
  }
  instance.member(member);
  return { ...wire, parameters: { ...wire.parameters, [ROUTER_MEMBER_PARAMETER]: member } };
}
