/**
 * The request parameter that pins a router's request to one member, by its name in the router.
 * `POST /v2/models/:router/:member/infer` sets it; a client may also send it itself (e.g. over gRPC).
 * Routers remove it before forwarding.
 *
 * @publicApi
 */
export const ROUTER_MEMBER_PARAMETER = 'router_member';

/**
 * The request parameter asking an ensemble for every member's own answer in the response's
 * `parameters.members` (`"return_members": true`). Routers remove it before forwarding.
 *
 * @publicApi
 */
export const RETURN_MEMBERS_PARAMETER = 'return_members';

/** The response parameter listing members that failed and were left out (`{"<member>": "<error>"}`). @publicApi */
export const FAILED_MEMBERS_PARAMETER = 'failed_members';

/** The response parameter holding each member's own answer when asked. @publicApi */
export const MEMBERS_PARAMETER = 'members';
