export type { AuthOptions } from '../../options/auth-options.interface';
export { TokenVerifier } from './token-verifier';
export { AuthRegistrar } from './auth.registrar';
