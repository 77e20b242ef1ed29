import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateGrpcOptions } from '../../libs/model-server/src/protocol/v2/grpc/grpc-options.validation';
import { validateOptions } from '../../libs/model-server/src/module/options.validation';
import { CLI_SETTINGS, flagsOf, optionsHelp } from './cli-settings';
import { loadServerConfig } from './server-config';

describe('the CLI settings', () => {
  it('take the library\'s defaults where the library has one (gRPC port, message limit, host, shutdown grace)', () => {
    const grpc = validateGrpcOptions({});
    const config = loadServerConfig({}, {}, join(__dirname, '..', '..', 'samples', 'models.yaml'));
    expect([config.grpcPort, config.grpcMaxMessageBytes, config.host, config.shutdownGraceMs]).toEqual([
      grpc.port,
      grpc.maxReceiveMessageBytes,
      grpc.host,
      grpc.shutdownGraceMs,
    ]);
    expect(config.shutdownGraceMs).toBe(30_000);
    expect(CLI_SETTINGS.loadMode.shown).toBe(validateOptions({ models: [] }, '1').loadMode);
  });

  it('the help text names each flag, its variable and its default', () => {
    const help = optionsHelp();
    expect(help).toMatch(/^ {2}--shutdown-grace-ms N .*\(env SHUTDOWN_GRACE_MS; default 30000\)$/m);
    expect(help).toMatch(/^ {2}--grpc-max-message-bytes N\n {24}.*\(env GRPC_MAX_MESSAGE_BYTES; default 64 MiB\)$/m);
    expect(help).toMatch(/^ {2}--debug {15}.*\(env DEBUG=1\)$/m);
  });

  it('--no-metrics is metrics: false; absent flags are undefined', () => {
    expect(flagsOf({ 'no-metrics': true, port: '1' })).toMatchObject({ metrics: false, port: '1', host: undefined });
    expect(flagsOf({}).metrics).toBeUndefined();
  });

  it('the README\'s configuration table agrees with the flags, variables and defaults', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    let checked = 0;
    for (const [key, s] of Object.entries(CLI_SETTINGS)) {
      const row = readme.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${s.env}`) && line.includes(`\`--${s.flag}\``));
      if (row === undefined) continue; // the monitoring flags are documented in docs/monitoring.md
      const def = 'default' in s ? String(s.default) : undefined;
      const fileKey = (s as { inFile?: false }).inFile === false || row.includes(`\`${(s as { fileKey?: string }).fileKey ?? key}\``);
      expect({ key, agrees: fileKey && (def === undefined || row.includes(def)) }).toEqual({ key, agrees: true });
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});

describe('KServe\'s spelling of the flags', () => {
  it('--http_port and --grpc_port are --port and --grpc-port; --model_dir and --model_name are settings', () => {
    const values = { http_port: '8080', grpc_port: '8081', model_dir: '/mnt/models', model_name: 'iris' };
    expect(flagsOf(values)).toMatchObject({ port: '8080', grpcPort: '8081', modelDir: '/mnt/models', modelName: 'iris' });
    expect(optionsHelp()).toMatch(/^ {2}--port N, --http_port N\n {24}HTTP port \(env PORT; default 8080\)$/m);
  });
});
