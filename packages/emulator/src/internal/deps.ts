import type { Hash } from '@smithy/hash-node'
import type { HttpRequest } from '@smithy/protocol-http'
import type { SignatureV4 } from '@smithy/signature-v4'
import type { XMLBuilder } from 'fast-xml-parser'
import type * as Jose from 'jose'

/** The emulator's heavy dependencies, loaded on `startEmulator()` only (DESIGN.md cold-start budget). */
export interface Deps {
  jose: typeof Jose
  XMLBuilder: typeof XMLBuilder
  SignatureV4: typeof SignatureV4
  HttpRequest: typeof HttpRequest
  Hash: typeof Hash
}

/**
 * Imports jose (root), fast-xml-parser and the smithy signer lazily, so importing
 * `@podcreds/emulator` for `generateTrustPolicy`/`lintTrustPolicy` (the CLI's `trust-policy`
 * commands) loads none of them.
 */
export async function loadDeps(): Promise<Deps> {
  const [jose, xml, signer, http, hash] = await Promise.all([
    import('jose'),
    import('fast-xml-parser'),
    import('@smithy/signature-v4'),
    import('@smithy/protocol-http'),
    import('@smithy/hash-node'),
  ])
  return {
    jose,
    XMLBuilder: xml.XMLBuilder,
    SignatureV4: signer.SignatureV4,
    HttpRequest: http.HttpRequest,
    Hash: hash.Hash,
  }
}
