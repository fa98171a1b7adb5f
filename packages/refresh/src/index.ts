export { advisoryWindowFor } from './advisoryWindowFor.js'
export type {
  ExpiringIdentity,
  RefreshErrorInfo,
  RefreshEvent,
  RefreshingProvider,
  RefreshStats,
} from './RefreshingProvider.js'
export type { RefreshOptions } from './refreshing.js'
export {
  DEFAULT_MANDATORY_WINDOW_MS,
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_MAX_STALENESS_MS,
  refreshing,
} from './refreshing.js'
