import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './model-folders';

/** A Kubernetes object as read from YAML. */
export type Manifest = Record<string, any>;

/** The manifests of `deploy/kserve/`, by file. */
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy', 'kserve');

/** Every document of every YAML file in a folder, with the file it came from. */
export function readManifests(dir: string = DEPLOY_DIR): { file: string; manifest: Manifest }[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((doc) => doc.toJS({ maxAliasCount: -1 }) as Manifest | null)
        .filter((m): m is Manifest => m !== null)
        .map((manifest) => ({ file, manifest })),
    );
}

/** The one manifest of a kind (and name, when given); throws when there is not exactly one. */
export function manifestOf(kind: string, name?: string): Manifest {
  const found = readManifests().filter(({ manifest }) => manifest.kind === kind && (name === undefined || manifest.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` named ${name}`} in deploy/kserve, found ${found.length}`);
  return found[0].manifest;
}

/** The value of `--flag=value` (or `--flag value`) in a container's args. */
export function argValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith(`--${flag}=`)) return args[i].slice(flag.length + 3);
    if (args[i] === `--${flag}`) return args[i + 1];
  }
  return undefined;
}
