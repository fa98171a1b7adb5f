import type { Milliseconds } from '@podcreds/core'

/**
 * Faults of one emulated endpoint. Every member is optional; an empty object means "healthy".
 * Applied in this order to each request: `down`, `latencyMs`, `throttle`, `status`/`rate`.
 */
export interface FaultSpec {
  /** Delay before the endpoint answers, in milliseconds (on the emulator's clock). @defaultValue 0 */
  latencyMs?: Milliseconds
  /**
   * Answer with this HTTP status (400–599) instead of serving the request, as the endpoint's own
   * error format: text/plain for the agent, an `ErrorResponse` XML document for STS and the AWS
   * endpoint. Combined with `rate` for intermittent errors.
   */
  status?: number
  /** The error code of an injected `status` on STS and the AWS endpoint, e.g. `IDPCommunicationError`. @defaultValue derived from the status (`InternalFailure`, `ServiceUnavailable`, `AccessDenied`…) */
  code?: string
  /** Fraction of requests, in [0, 1], that get the injected `status`. @defaultValue 1 */
  rate?: number
  /**
   * Outage: the endpoint resets every connection without answering. `true` for "until cleared", or
   * a window `{ from?, until }` in epoch milliseconds on the emulator's clock.
   * @defaultValue false
   */
  down?:
    | boolean
    | {
        /** Start of the outage, epoch milliseconds. @defaultValue now */
        from?: number
        /** End of the outage (exclusive), epoch milliseconds. */
        until: number
      }
  /**
   * Throttling: `true` (every request) or a fraction in [0, 1]. The agent and IMDS answer 429, STS
   * 400 `Throttling`, the AWS endpoint 400 `Throttling` (STS actions) or 503 `SlowDown` (S3).
   * @defaultValue false
   */
  throttle?: boolean | number
  /**
   * Agent only: answer the same credentials until the agent's own renewal (half of their lifetime
   * gone), as the real agent caches per association, instead of a fresh set per request.
   * @defaultValue false
   */
  sameCredentials?: boolean
  /**
   * Clock skew of this endpoint, in milliseconds: its clock reads `now + skewMs`. The agent and STS
   * add it to the `Expiration` they report (the credentials still expire at the true time on the
   * AWS endpoint); STS and the AWS endpoint also use it when checking a signed request's
   * `X-Amz-Date` (more than 15 minutes apart is `RequestTimeTooSkewed`).
   * @defaultValue 0
   */
  skewMs?: Milliseconds
}

/** Faults per endpoint; a key that is absent leaves that endpoint's faults as they are. */
export interface FaultSettings {
  /** The Pod Identity agent (`agentUrl`). */
  agent?: FaultSpec
  /** The STS endpoint (`stsUrl`). */
  sts?: FaultSpec
  /** The SigV4-verifying AWS endpoint (`awsUrl`). */
  aws?: FaultSpec
  /** The IMDSv2 stand-in (`imdsUrl`); throttling answers 429, as IMDS does. */
  imds?: FaultSpec
  /**
   * The Entra token endpoint (`entraUrl`, also `startEntraEndpoint()`'s `faults`): `down`,
   * `latencyMs` (a hang, when longer than the client waits), `throttle` (429 with `Retry-After`,
   * as Entra throttles) and `status`/`rate`, answered as an Entra error document
   * (`temporarily_unavailable` for 503 and 429, `server_error` for other 5xx, `invalid_request`
   * for 4xx, RFC 6749's error names; `AADSTS50000`). `code`, `skewMs` and `sameCredentials` do not
   * apply (a `TypeError`).
   */
  entra?: FaultSpec
}

/** The fault switchboard of a running emulator. */
export interface EmulatorFaults {
  /**
   * Replaces the faults of each endpoint named in `settings` (others keep theirs). A bad value
   * throws a `TypeError` naming it, e.g. `faults.agent.rate`.
   */
  set(settings: FaultSettings): void
  /** Removes the faults of one endpoint, or of all of them. */
  clear(target?: keyof FaultSettings): void
  /** The faults in force, per endpoint. */
  current(): FaultSettings
}
