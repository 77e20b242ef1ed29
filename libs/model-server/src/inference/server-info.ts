/**
 * The server's identity for `GET /v2`: name, version and the protocol extensions the transports implement.
 * Transports add the extensions they serve at boot.
 *
 * @publicApi
 */
export class ServerInfo {
  private readonly extensionSet = new Set<string>();
  /** OpenAPI path items the transports contribute to `/openapi.json`. */
  readonly apiPaths: Record<string, Record<string, unknown>> = {};

  constructor(
    readonly name: string,
    readonly version: string,
  ) {}

  addExtension(name: string): void {
    this.extensionSet.add(name);
  }

  /** Adds OpenAPI path items (e.g. a transport's routes) to the served API description. */
  addApiPaths(paths: Record<string, Record<string, unknown>>): void {
    Object.assign(this.apiPaths, paths);
  }

  get extensions(): string[] {
    return [...this.extensionSet];
  }
}
