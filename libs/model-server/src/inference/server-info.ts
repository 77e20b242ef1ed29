/**
 * The server's identity for `GET /v2`: name, version and the protocol extensions the transports implement.
 * Transports add the extensions they serve at boot.
 *
 * @publicApi
 */
export class ServerInfo {
  private readonly extensionSet = new Set<string>();

  constructor(
    readonly name: string,
    readonly version: string,
  ) {}

  addExtension(name: string): void {
    this.extensionSet.add(name);
  }

  get extensions(): string[] {
    return [...this.extensionSet];
  }
}
