export type { AuthOptions } from './auth-options.interface';
export { TokenVerifier } from './token-verifier';
export { AuthRegistrar } from './auth.registrar';
