import type { Explanation } from '@podcreds/chain'
import type { Env } from '@podcreds/core'
import type { TokenInspection } from '@podcreds/token'
import type { TokenPurpose } from '../tokenReport.js'

/** What `podcreds doctor` is run with. */
export interface DoctorOptions {
  /** The environment to diagnose (the process's own, in the CLI). */
  env: Env
  /** Epoch milliseconds: token expiry and refresh points are reckoned from it. */
  now: number
  /**
   * The service-account folder kubelet mounts into every pod (`namespace`, `token`), read for the
   * pod's namespace and service account when no projected token names them.
   */
  serviceAccountDir: string
}

/** A projected token file named by the environment, read once. Claims only, never the token. */
export interface TokenFact {
  purpose: TokenPurpose
  /** The variable that names it, e.g. `AWS_WEB_IDENTITY_TOKEN_FILE`. */
  variable: string
  file: string
  info?: TokenInspection
  /** Why it could not be read or decoded: the `CredentialsError` code and its (secret-free) message. */
  error?: { code: string; message: string }
}

/** Whether doctor runs in a Kubernetes pod, and which one. */
export interface PodFact {
  /** `KUBERNETES_SERVICE_HOST` is set (kubelet sets it in every container). */
  inCluster: boolean
  namespace?: string
  serviceAccount?: string
  /** Where namespace and service account come from: a token's claims, or the service-account folder. */
  source?: string
}

/** The profile `AWS_PROFILE` selects, looked up in the shared files the way the AWS SDK reads them. */
export interface ProfileFact {
  name: string
  configFile: string
  credentialsFile: string
  /** The files that have a section for it. */
  foundIn: string[]
  /** Files that exist but cannot be read. */
  unreadable: string[]
  /** The first line of a file that is not INI (the AWS SDK skips such lines). */
  notIni: { file: string; line: number }[]
}

/** The one walk of the default chain (issue #21: doctor resolves once). */
export interface ChainFact {
  explanation?: Explanation
  /** Set when the walk did not finish in its time budget, in milliseconds. */
  timedOutAfterMs?: number
  /** Set when `explain()` itself threw (a malformed option: a bug of ours, reported, not thrown). */
  error?: string
}

/** Entra Workload ID on AKS, as the azure-workload-identity webhook sets it up (issue #12). */
export interface AzureFact {
  configured: boolean
  reason: string
  details: Record<string, string>
  /** The variables of the three the webhook injects that are missing. */
  missing: string[]
  token?: { expiresAt: string; refreshAfter?: string }
  /** Why no token could be had: code and secret-free message. */
  error?: string
  /** The `CredentialsError` code of `error` (`ERR_HTTP_TIMEOUT`, `ERR_STS`, …): the cause the fix is chosen by. */
  errorCode?: string
  /** The HTTP status Entra (or a proxy) answered with, when there was an answer. */
  status?: number
  /** The configuration could not be read at all (an unreadable token file, say). */
  unreadable?: boolean
  timedOutAfterMs?: number
}

/** Everything doctor learns before its checks run; each check reads these, most send nothing. */
export interface DoctorFacts extends DoctorOptions {
  /** The relevant variables, secret ones as "(set, hidden)", URLs without user info. */
  environment: Record<string, string>
  tokens: TokenFact[]
  pod: PodFact
  profile?: ProfileFact
  /** Whether `@aws-sdk/credential-provider-node` can be loaded where `@podcreds/chain` loads it. */
  sdkAvailable: boolean
  chain: ChainFact
  azure?: AzureFact
}
