/** The swc `require` hook for TypeScript model files now lives in the library (worker threads need it too). */
export { registerTypeScript } from 'nest-model-server';
