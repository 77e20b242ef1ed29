import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { parseArgsOptions } from '../src/config/cli-settings';
import { argValue, manifestOf, readManifests, type Manifest } from './helpers/kserve-manifests';
import { REPO_ROOT } from './helpers/model-folders';

const CRD_DIR = join(__dirname, 'fixtures', 'kserve');
const CRD_FILES = ['serving.kserve.io_servingruntimes.yaml', 'serving.kserve.io_clusterservingruntimes.yaml', 'serving.kserve.io_inferenceservices.yaml'];

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/**
 * A CRD's structural OpenAPI v3 schema as JSON Schema for ajv: an object schema with `properties` rejects other
 * fields (as Kubernetes' strict field validation does) unless it preserves unknown fields; `format: int32/int64`
 * become ranges; the `x-kubernetes-*` markers carry no check of their own here.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const source = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toJsonSchema(v)]));
    } else if (key === 'format') {
      const range = INT_RANGES[value as string];
      if (range !== undefined) [out.minimum, out.maximum] = [Math.max(range[0], (source.minimum as number | undefined) ?? range[0]), range[1]];
    } else if (key === 'minimum' && out.minimum !== undefined) {
      continue;
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  if (source.properties !== undefined && source.additionalProperties === undefined && source['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

interface Crd {
  kind: string;
  apiVersion: string;
  validate: ValidateFunction;
}

function loadCrds(): Crd[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  return CRD_FILES.flatMap((file) => {
    const crd = parse(readFileSync(join(CRD_DIR, file), 'utf8'), { maxAliasCount: -1 }) as Manifest;
    return (crd.spec.versions as Manifest[]).map((version) => ({
      kind: crd.spec.names.kind as string,
      apiVersion: `${crd.spec.group}/${version.name}`,
      validate: ajv.compile(toJsonSchema(version.schema.openAPIV3Schema) as object),
    }));
  });
}

const crds = loadCrds();

/** Schema problems of a manifest (`path: message`), or a note that no CRD covers it. */
function schemaProblems(manifest: Manifest): string[] {
  const crd = crds.find((c) => c.kind === manifest.kind && c.apiVersion === manifest.apiVersion);
  if (crd === undefined) return [`no vendored CRD for ${manifest.apiVersion} ${manifest.kind}`];
  if (crd.validate(manifest)) return [];
  return (crd.validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

/** Knative's reserved environment variables (it sets them itself), and the ports its queue-proxy takes. */
const RESERVED_ENV = ['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION'];
const RESERVED_PORTS = [8012, 8013, 8022, 9090, 9091];

/** The container KServe runs for an InferenceService: the runtime's, with the isvc's model fields merged over it. */
function effectiveContainer(runtime: Manifest, isvc: Manifest): Manifest {
  const container = { ...runtime.spec.containers[0] } as Manifest;
  const model = isvc.spec.predictor.model as Manifest;
  const ports = [...(container.ports ?? [])];
  for (const p of model.ports ?? []) if (!ports.some((q: Manifest) => q.containerPort === p.containerPort)) ports.push(p);
  if (ports.length > 0) container.ports = ports;
  const env = [...(container.env ?? [])].filter((e: Manifest) => !(model.env ?? []).some((m: Manifest) => m.name === e.name));
  container.env = [...env, ...(model.env ?? [])];
  for (const key of ['args', 'resources', 'readinessProbe', 'livenessProbe', 'image'] as const) if (model[key] !== undefined) container[key] = model[key];
  return container;
}

/** What Knative's webhook would refuse in a serving container (serverless mode). */
function knativeProblems(container: Manifest): string[] {
  const problems: string[] = [];
  for (const e of container.env ?? []) if (RESERVED_ENV.includes(e.name)) problems.push(`env ${e.name} is reserved by Knative`);
  const ports: Manifest[] = container.ports ?? [];
  if (ports.length > 1) problems.push(`${ports.length} container ports: Knative allows one`);
  const port = ports[0]?.containerPort ?? 8080;
  if (RESERVED_PORTS.includes(port)) problems.push(`port ${port} is reserved by Knative's queue-proxy`);
  if (ports[0]?.name !== undefined && !['http1', 'h2c'].includes(ports[0].name)) problems.push(`port name ${ports[0].name}: http1 or h2c`);
  if (container.lifecycle !== undefined) problems.push('lifecycle hooks are not allowed by Knative');
  for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
    const probe = container[kind] as Manifest | undefined;
    if (probe === undefined) continue;
    if (probe.grpc !== undefined) problems.push(`${kind}: Knative probes are exec, httpGet or tcpSocket`);
    const probePort = probe.httpGet?.port ?? probe.tcpSocket?.port;
    if (probePort !== undefined && probePort !== port) problems.push(`${kind} on port ${probePort}, but the serving port is ${port}`);
  }
  return problems;
}

const manifests = readManifests();
const runtime = manifestOf('ServingRuntime');
const clusterRuntime = manifestOf('ClusterServingRuntime');
const services = manifests.filter(({ manifest }) => manifest.kind === 'InferenceService').map(({ manifest }) => manifest);
const container = runtime.spec.containers[0] as Manifest;

describe('deploy/kserve manifests against KServe\'s CRD schemas', () => {
  it('the folder holds a ServingRuntime, a ClusterServingRuntime and InferenceServices for REST and gRPC', () => {
    expect(manifests.map(({ manifest }) => manifest.kind).sort()).toEqual(['ClusterServingRuntime', 'InferenceService', 'InferenceService', 'InferenceService', 'ServingRuntime']);
    expect(services.map((s) => s.spec.predictor.model.protocolVersion).sort()).toEqual(['grpc-v2', 'v2', 'v2']);
  });

  it.each(manifests.map(({ file, manifest }) => [`${file}: ${manifest.kind} ${manifest.metadata?.name}`, manifest]))('%s passes the schema', (_what, manifest) => {
    expect(schemaProblems(manifest)).toEqual([]);
  });

  it.each<[string, (m: Manifest) => void, RegExp]>([
    ['a user name in runAsUser', (m) => (m.spec.containers[0].securityContext.runAsUser = 'node'), /runAsUser: must be integer/],
    ['a priority of 0', (m) => (m.spec.supportedModelFormats[0].priority = 0), /priority: must be >= 1/],
    ['a misspelt field', (m) => (m.spec.containers[0].readinesProbe = {}), /must NOT have additional properties \(readinesProbe\)/],
    ['a container without a name', (m) => delete m.spec.containers[0].name, /must have required property 'name'/],
    ['a seccomp profile without a type', (m) => (m.spec.containers[0].securityContext.seccompProfile = {}), /must have required property 'type'/],
  ])('the schema check can fail: %s', (_what, spoil, message) => {
    const copy = structuredClone(runtime);
    spoil(copy);
    expect(schemaProblems(copy).join('\n')).toMatch(message);
  });
});

describe('the ServingRuntime', () => {
  it('declares v2 and grpc-v2, and its model format with a priority', () => {
    expect(runtime.spec.protocolVersions).toEqual(['v2', 'grpc-v2']);
    expect(runtime.spec.supportedModelFormats).toEqual([{ name: 'nest-model-server', version: '1', autoSelect: true, priority: 1 }]);
    for (const isvc of services) {
      expect(isvc.spec.predictor.model.runtime).toBe(runtime.metadata.name);
      expect(isvc.spec.predictor.model.modelFormat.name).toBe('nest-model-server');
    }
  });

  it('the ClusterServingRuntime has the same spec (one runtime, two scopes)', () => {
    expect(clusterRuntime.spec).toEqual(runtime.spec);
    expect(clusterRuntime.metadata.name).toBe(runtime.metadata.name);
  });

  it('passes KServe\'s arguments the CLI accepts: --model_name from the InferenceService, --model_dir /mnt/models, one port per protocol', () => {
    const flags = Object.keys(parseArgsOptions());
    const args = container.args as string[];
    expect(args[0]).toBe('serve');
    for (const arg of args.slice(1)) expect(flags).toContain(/^--([^=]+)/.exec(arg)![1]);
    expect(argValue(args, 'model_name')).toBe('{{.Name}}');
    expect(argValue(args, 'model_dir')).toBe('/mnt/models');
    expect(argValue(args, 'http_port')).toBe('8080');
    expect(argValue(args, 'grpc_port')).toBe('8081');
    expect(container.command).toEqual(['node', '/app/dist/src/cli.js']);
  });

  it('runs as a numeric non-root user without privilege escalation, RuntimeDefault seccomp, a read-only root filesystem and no capabilities', () => {
    const sc = container.securityContext as Manifest;
    expect(sc).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } });
    expect(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0).toBe(true);
  });

  it('asks for resources and names the server\'s own metrics port and path for Prometheus', () => {
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits).toMatchObject({ memory: expect.any(String) });
    expect(runtime.spec.annotations).toEqual({ 'prometheus.kserve.io/port': argValue(container.args, 'http_port'), 'prometheus.kserve.io/path': '/metrics' });
  });

  it('probes readiness and liveness on the HTTP port\'s health paths, with the probe the image ships', () => {
    const httpPort = argValue(container.args, 'http_port');
    expect(container.readinessProbe.exec.command).toEqual(['node', '/app/dist/src/probe.js', '/v2/health/ready', '--port', httpPort]);
    expect(container.livenessProbe.exec.command).toEqual(['node', '/app/dist/src/probe.js', '/v2/health/live', '--port', httpPort]);
    expect(existsSync(join(REPO_ROOT, 'src', 'probe.ts'))).toBe(true); // compiled to dist/src/probe.js by the build
  });

  it('sets a shutdown delay and grace that end within the pod\'s default 30 s termination grace period', () => {
    const env = Object.fromEntries((container.env as Manifest[]).map((e) => [e.name, e.value]));
    expect(Number(env.SHUTDOWN_DELAY_MS) + Number(env.SHUTDOWN_GRACE_MS)).toBeLessThan(30000);
  });
});

describe('Knative\'s rules (serverless mode), for the container of each InferenceService', () => {
  it.each(services.map((s) => [s.metadata.name as string, s]))('%s: no reserved env, at most one port, no lifecycle, probes on the serving port', (_name, isvc) => {
    expect(knativeProblems(effectiveContainer(runtime, isvc))).toEqual([]);
  });

  it('the gRPC InferenceService routes to the server\'s gRPC port as h2c', () => {
    const grpc = services.find((s) => s.spec.predictor.model.protocolVersion === 'grpc-v2')!;
    expect(effectiveContainer(runtime, grpc).ports).toEqual([{ name: 'h2c', containerPort: Number(argValue(container.args, 'grpc_port')), protocol: 'TCP' }]);
  });

  it.each<[string, (c: Manifest) => void, RegExp]>([
    ['env PORT', (c) => c.env.push({ name: 'PORT', value: '8080' }), /env PORT is reserved/],
    ['two ports', (c) => (c.ports = [{ containerPort: 8080 }, { containerPort: 8081, name: 'h2c' }]), /2 container ports/],
    ['a preStop hook', (c) => (c.lifecycle = { preStop: { exec: { command: ['sleep', '5'] } } }), /lifecycle hooks/],
    ['an HTTP probe on another port', (c) => (c.readinessProbe = { httpGet: { path: '/v2/health/ready', port: 8080 } }, (c.ports = [{ containerPort: 8081, name: 'h2c' }])), /readinessProbe on port 8080, but the serving port is 8081/],
  ])('the rule check can fail: %s', (_what, spoil, message) => {
    const c = structuredClone(container);
    spoil(c);
    expect(knativeProblems(c).join('\n')).toMatch(message);
  });
});
