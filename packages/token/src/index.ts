export type { ReadFile, ReadTokenOptions } from './readToken.js'
export { DEFAULT_MAX_TOKEN_BYTES, readToken } from './readToken.js'
