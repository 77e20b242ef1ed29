import { invalidRequest } from '../../../errors';

/**
 * MLRun-style body paths: read the request from a dotted path of the body (`input_path`), and write the
 * response into a dotted path of the original body (`result_path`).
 *
 * @internal
 */
export function readBodyPath(body: unknown, path: string): unknown {
  let node: unknown = body;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, key)) {
      throw invalidRequest(`the request body has no '${path}' (this model reads its request from there)`);
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Writes `value` at `path` inside `body` (creating objects on the way) and returns the body. @internal */
export function writeBodyPath(body: unknown, path: string, value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const keys = path.split('.');
  let node = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = Object.prototype.hasOwnProperty.call(node, keys[i]) ? node[keys[i]] : undefined;
    const child = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : {};
    Object.defineProperty(node, keys[i], { value: child, enumerable: true, writable: true, configurable: true });
    node = child;
  }
  Object.defineProperty(node, keys[keys.length - 1], { value, enumerable: true, writable: true, configurable: true });
  return root;
}
