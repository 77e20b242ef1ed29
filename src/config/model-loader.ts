/** Loading a model class from its file lives in the library (worker threads load their copy with it). */
export { loadModelClass } from 'nest-model-server';
export type { LoadedModelClass } from 'nest-model-server';
