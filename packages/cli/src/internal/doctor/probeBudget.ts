/**
 * The most any one doctor step that talks to an endpoint may take, in milliseconds: the walk of
 * the chain, the Entra token request, a probe. Past it the step is a finding ("did not answer
 * within …"), and doctor goes on (issue #21: doctor never hangs on a probe).
 */
export const PROBE_BUDGET_MS = 8_000

/** The timeout of one HTTP request doctor sends itself (a probe), in milliseconds. */
export const PROBE_TIMEOUT_MS = 2_000
