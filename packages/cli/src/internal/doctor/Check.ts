import type { DoctorFacts } from './DoctorFacts.js'
import type { Finding } from './Finding.js'

/**
 * One small doctor check: a name and a function from the facts to its findings. Most read the
 * facts only; a probe that sends a request bounds it itself (issue #21: doctor never hangs).
 */
export interface Check {
  /** The `check` of its findings. */
  name: string
  run(facts: DoctorFacts): Finding[] | Promise<Finding[]>
}
