/** `'x'` or `'x' version '2'`: a model version as messages name it. @internal */
export function versionLabel(name: string, version: string | undefined): string {
  return version === undefined ? `'${name}'` : `'${name}' version '${version}'`;
}
