import type { Check } from '../Check.js'
import { tokenFindings } from './tokenFindings.js'

/** Each projected token the environment names: readable, a JWT, in date, the right audience. */
export const checkTokens: Check = {
  name: 'token',
  run: (facts) => facts.tokens.flatMap((token) => tokenFindings(token, facts.now)),
}
