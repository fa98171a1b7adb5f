/**
 * `@podcreds/token/read`: only {@link readToken}, without the decoder. Credential providers read
 * the token file on every call and never decode it on that path, so they import this subpath and
 * load no part of jose (DESIGN "Cold-start budget").
 *
 * @packageDocumentation
 */
export type { ReadFile, ReadTokenOptions } from './readToken.js'
export { DEFAULT_MAX_TOKEN_BYTES, readToken } from './readToken.js'
