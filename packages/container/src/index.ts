export { checkEndpoint } from './checkEndpoint.js'
export type { ContainerOptions } from './fromContainer.js'
export {
  DEFAULT_CONTAINER_CONNECT_TIMEOUT_MS,
  DEFAULT_CONTAINER_TIMEOUT_MS,
  fromContainer,
} from './fromContainer.js'
