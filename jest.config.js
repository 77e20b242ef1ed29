/** Unit specs beside the code, e2e tests under test/, all compiled by @swc/jest. */
const { exports: entries } = require('./package.json');
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{libs,src,samples}/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  transform: { '^.+\\.(t|j)sx?$': swc },
  // NestJS 12 ships ESM; let swc compile it (and its ESM dependencies) to CommonJS for jest.
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|cookie|file-type|load-esm|uid|strtok3|token-types|@tokenizer|uint8array-extras)/)',
  ],
  // Each entry of package.json "exports" (`nest-model-server`, `nest-model-server/grpc`, ...) to its source folder.
  moduleNameMapper: Object.fromEntries(
    Object.entries(entries).map(([subpath, target]) => [
      `^nest-model-server${subpath.slice(1)}$`,
      `<rootDir>/${target.default.replace(/^\.\/dist\//, '').replace(/\/index\.js$/, '')}`,
    ]),
  ),
  testTimeout: 30000,
};
