export type { SharedProviderOptions } from './sharedProvider.js'
export { DEFAULT_SHARED_MAX, sharedProvider } from './sharedProvider.js'
