/** Unit specs beside the code, e2e tests under test/, all compiled by @swc/jest. */
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
  moduleNameMapper: {
    '^nest-model-server$': '<rootDir>/libs/model-server/src',
    '^nest-model-server/onnx$': '<rootDir>/libs/model-server/src/onnx',
  },
  testTimeout: 30000,
};
