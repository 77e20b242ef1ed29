/**
 * The lifecycle of one model version: `loading → ready | failed`, `ready → unloading → unloaded`.
 *
 * @publicApi
 */
export enum ModelState {
  Loading = 'loading',
  Ready = 'ready',
  Failed = 'failed',
  Unloading = 'unloading',
  Unloaded = 'unloaded',
}
