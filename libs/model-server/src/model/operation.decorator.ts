import type { ModelServer } from './model-server';

const OPERATIONS = Symbol.for('nest-model-server:operations');

/** Route segments an operation may not take: they are the protocol's own. */
const RESERVED = new Set(['infer', 'explain', 'ready', 'versions', 'generate', 'generate_stream']);
const OPERATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

type OperationTable = Map<string, string | symbol>;

/**
 * Declares a model method as a custom operation, served at
 * `POST /v2/models/:name[/versions/:v]/<operation>`. Only methods declared this way are reachable.
 * The method receives `(request: InferenceRequest, ctx: RequestContext)` and returns an
 * {@link InferenceResult} (encoded as a v2 response) or any JSON-serialisable value.
 *
 * @param name the route segment; defaults to the method's name.
 * @publicApi
 */
export function Operation(name?: string): MethodDecorator {
  return (target, propertyKey) => {
    const opName = name ?? String(propertyKey);
    if (!OPERATION_NAME.test(opName)) {
      throw new Error(`@Operation('${opName}'): an operation name is 1-128 letters, digits, '_', '.' or '-'`);
    }
    if (RESERVED.has(opName)) {
      throw new Error(`@Operation('${opName}'): '${opName}' is a route of the protocol and cannot be an operation`);
    }
    const owner = target as Record<symbol, OperationTable | undefined>;
    // Each class gets its own table (copied from its parent), so subclasses extend rather than share it.
    const own = Object.prototype.hasOwnProperty.call(owner, OPERATIONS) ? owner[OPERATIONS] : undefined;
    const table: OperationTable = own ?? new Map(owner[OPERATIONS] ?? []);
    table.set(opName, propertyKey);
    if (!own) Object.defineProperty(owner, OPERATIONS, { value: table, enumerable: false });
  };
}

/** The operations a model class declared (its own and inherited), operation name → method key. @internal */
export function declaredOperations(model: ModelServer): ReadonlyMap<string, string | symbol> {
  const table = (Object.getPrototypeOf(model) as Record<symbol, OperationTable | undefined>)[OPERATIONS];
  return table ?? new Map();
}
