import { readFileSync } from 'node:fs';

let registered = false;

/**
 * Lets `require` load TypeScript model files: each `.ts` file is compiled on load with swc
 * (decorators and their metadata included, as class-validator and Nest need).
 */
export function registerTypeScript(): void {
  if (registered) return;
  registered = true;
  // Loaded lazily: serving compiled JavaScript models never needs the compiler.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const swc = require('@swc/core') as typeof import('@swc/core');
  const extensions = require.extensions as NodeJS.RequireExtensions;
  extensions['.ts'] = (module, filename) => {
    const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
      filename,
      sourceMaps: 'inline',
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    });
    (module as unknown as { _compile(code: string, filename: string): void })._compile(code, filename);
  };
}
