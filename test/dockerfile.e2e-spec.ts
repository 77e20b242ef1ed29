import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgsOptions } from '../src/config/cli-settings';
import { manifestOf } from './helpers/kserve-manifests';
import { REPO_ROOT, outsideFolder } from './helpers/model-folders';

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword, ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage++;
    out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

/** A JSON-form instruction's array (`["node", "x"]`). */
function jsonArgs(args: string): string[] {
  return JSON.parse(args.slice(args.indexOf('['))) as string[];
}

/** Whether `.dockerignore` excludes a path of the build context (Go-style globs, `**`, `!` re-includes; last match wins). */
function ignored(patterns: string[], path: string): boolean {
  let excluded = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
    const re = pattern
      .split('**')
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
      .join('.*');
    if (new RegExp(`^${re}(/.*)?$`).test(path)) excluded = !negate;
  }
  return excluded;
}

const dockerfile = instructions(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const finalStage = Math.max(...dockerfile.map((i) => i.stage));
const final = dockerfile.filter((i) => i.stage === finalStage);
const one = (keyword: string): Instruction => {
  const found = final.filter((i) => i.keyword === keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the final stage, found ${found.length}`);
  return found[0];
};

describe('the Dockerfile\'s promises, checked without a Docker engine', () => {
  it('every stage is node:22-bookworm-slim, and package.json\'s engines say what the image runs', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(new Set(froms)).toEqual(new Set(['node:22-bookworm-slim']));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=22');
  });

  it('every COPY source exists in the repository and is not excluded by .dockerignore; every --from names a stage', () => {
    const stages = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => /\bAS\s+(\S+)/i.exec(i.args)?.[1]);
    const copies = dockerfile.filter((i) => i.keyword === 'COPY');
    expect(copies.length).toBeGreaterThan(5);
    for (const copy of copies) {
      const words = copy.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='));
      const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
      if (from !== undefined) {
        expect({ copy: copy.args, stage: stages.includes(from.slice('--from='.length)) }).toEqual({ copy: copy.args, stage: true });
        continue;
      }
      for (const source of sources) {
        const path = source.replace(/^\.\//, '').replace(/\/$/, '');
        expect({ source, exists: existsSync(join(REPO_ROOT, path)), ignored: ignored(dockerignore, path) }).toEqual({ source, exists: true, ignored: false });
      }
    }
  });

  it('the .dockerignore check can fail (it reads the patterns as Docker does)', () => {
    expect(ignored(dockerignore, 'node_modules')).toBe(true);
    expect(ignored(dockerignore, 'samples/echo/echo.model.spec.ts')).toBe(true);
    expect(ignored(dockerignore, 'samples/echo/echo.model.ts')).toBe(false);
    expect(ignored(['dist', '!dist/keep'], 'dist/keep')).toBe(false);
  });

  it('runs as a numeric non-root user, the one the ServingRuntime names', () => {
    const [uid, gid] = one('USER').args.split(':').map(Number);
    expect(Number.isInteger(uid) && uid > 0).toBe(true);
    const sc = manifestOf('ServingRuntime').spec.containers[0].securityContext;
    expect([sc.runAsUser, sc.runAsGroup]).toEqual([uid, gid]);
  });

  it('installs with install scripts off (npm 10 honours --ignore-scripts) and prunes other platforms\' onnxruntime binaries before the final stage', () => {
    const installs = dockerfile.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const run of installs) expect(run.args).toMatch(/--ignore-scripts/);
    const prune = dockerfile.find((i) => i.keyword === 'RUN' && i.args.includes('scripts/prune-onnxruntime.js'));
    expect(prune).toBeDefined();
    const modulesCopy = final.find((i) => i.keyword === 'COPY' && i.args.includes('node_modules'))!;
    const fromStage = /--from=(\S+)/.exec(modulesCopy.args)![1];
    const stageIndex = dockerfile.filter((i) => i.keyword === 'FROM').findIndex((i) => new RegExp(`\\bAS\\s+${fromStage}\\b`, 'i').test(i.args));
    expect(prune!.stage).toBe(stageIndex);
    expect(final.some((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.args))).toBe(false);
  });

  it('the prune script keeps this platform\'s binaries only', () => {
    const dir = outsideFolder('nms-prune');
    try {
      const platforms = ['darwin/arm64', 'linux/arm64', 'linux/x64', 'win32/x64', `${process.platform}/${process.arch}`];
      for (const p of platforms) mkdirSync(join(dir.path, 'onnxruntime-node', 'bin', 'napi-v6', p, 'lib'), { recursive: true });
      execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'prune-onnxruntime.js'), dir.path], { stdio: 'pipe' });
      const napi = join(dir.path, 'onnxruntime-node', 'bin', 'napi-v6');
      expect(readdirSync(napi)).toEqual([process.platform]);
      expect(readdirSync(join(napi, process.platform))).toEqual([process.arch]);
    } finally {
      dir.remove();
    }
  });

  it('ENTRYPOINT and CMD start the CLI with flags it has; HEALTHCHECK asks readiness with the shipped probe', () => {
    const entrypoint = jsonArgs(one('ENTRYPOINT').args);
    expect(entrypoint).toEqual(['node', 'dist/src/cli.js']);
    expect(existsSync(join(REPO_ROOT, 'src', 'cli.ts'))).toBe(true);
    const cmd = jsonArgs(one('CMD').args);
    expect(cmd[0]).toBe('serve');
    const flags = Object.keys(parseArgsOptions());
    for (const arg of cmd.slice(1).filter((a) => a.startsWith('--'))) expect(flags).toContain(/^--([^=]+)/.exec(arg)![1]);
    const health = one('HEALTHCHECK').args;
    expect(jsonArgs(health.slice(health.indexOf('CMD')))).toEqual(['node', 'dist/src/probe.js', '/v2/health/ready']);
    expect(existsSync(join(REPO_ROOT, 'src', 'probe.ts'))).toBe(true);
  });

  it('sets no variable Knative reserves (PORT, K_SERVICE, K_CONFIGURATION, K_REVISION)', () => {
    const env = dockerfile.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).not.toMatch(/\b(PORT|K_SERVICE|K_CONFIGURATION|K_REVISION)=/);
  });
});
