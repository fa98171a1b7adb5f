export type {
  ChainLink,
  CredentialChain,
  CredentialsProvider,
  IdentityProperties,
  NamedLink,
} from './chain.js'
export { chain } from './chain.js'
export type { InvalidatingProvider } from './credentialsPlugin.js'
export { credentialsPlugin } from './credentialsPlugin.js'
export type { DefaultChainOptions, LinkName } from './defaultChain.js'
export { defaultChain } from './defaultChain.js'
export type { ExplainedLink, ExplainOptions, Explanation, LinkStatus } from './explain.js'
export { explain } from './explain.js'
export type { FromEnvOptions } from './fromEnv.js'
export { fromEnv } from './fromEnv.js'
