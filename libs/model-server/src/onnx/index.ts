/**
 * ONNX Runtime models: `import { OnnxModelServer } from 'nest-model-server/onnx'`. A subpath of its own, so
 * the main entry point never loads the native addon.
 */
export { OnnxModelServer } from './onnx-model-server';
export { DEFAULT_ONNX_FILE } from './onnx-session-options.util';
export type { OnnxSettings } from './onnx-session-options.util';
