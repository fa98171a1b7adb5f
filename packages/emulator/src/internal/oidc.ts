import type { Context, Exchange } from './context.js'
import { send } from './context.js'

/** OIDC discovery and JWKS under the issuer's path, as EKS serves them (`<issuer>/keys`). */
export function handleOidc(context: Context, exchange: Exchange): void {
  const { res, url, req } = exchange
  const base = new URL(context.issuerUrl).pathname
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain', 'Method Not Allowed')
  } else if (url.pathname === `${base}/.well-known/openid-configuration`) {
    send(
      res,
      200,
      'application/json',
      JSON.stringify({
        issuer: context.issuerUrl,
        jwks_uri: `${context.issuerUrl}/keys`,
        authorization_endpoint: 'urn:kubernetes:programmatic_authorization',
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        claims_supported: ['sub', 'iss'],
        id_token_signing_alg_values_supported: ['RS256'],
      }),
    )
  } else if (url.pathname === `${base}/keys`) {
    send(res, 200, 'application/json', JSON.stringify(context.issuer.jwks()))
  } else {
    send(res, 404, 'text/plain', 'Not Found')
  }
}
