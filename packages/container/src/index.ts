export { checkEndpoint } from './checkEndpoint.js'
export type { CheckInstanceMetadataOptions, InstanceMetadataProbe } from './checkInstanceMetadata.js'
export { checkInstanceMetadata } from './checkInstanceMetadata.js'
export type { ContainerOptions } from './fromContainer.js'
export {
  DEFAULT_CONTAINER_CONNECT_TIMEOUT_MS,
  DEFAULT_CONTAINER_RETRY_WINDOW_MS,
  DEFAULT_CONTAINER_TIMEOUT_MS,
  fromContainer,
} from './fromContainer.js'
export type { InstanceMetadataOptions } from './fromInstanceMetadata.js'
export {
  DEFAULT_IMDS_TIMEOUT_MS,
  DEFAULT_IMDS_TOKEN_TTL_SECONDS,
  fromInstanceMetadata,
} from './fromInstanceMetadata.js'
