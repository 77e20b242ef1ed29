/**
 * How messages and logs name a model version: `'iris'`, or `'iris' version '2'`. The one place this label is
 * formatted (the repository, executors, error factories and model classes use it).
 *
 * @internal
 */
export function versionLabel(name: string, version: string | undefined): string {
  return version === undefined ? `'${name}'` : `'${name}' version '${version}'`;
}
