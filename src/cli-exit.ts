import process from 'node:process';
/** Ends the CLI with an error message on stderr (exit 1). Light: the launcher uses it before the server's modules load. */
export function exitWithError(err: unknown): never {
  process.stderr.write(`nest-model-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
