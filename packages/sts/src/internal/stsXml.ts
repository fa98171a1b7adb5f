// The AWS SDK's own XML parser (`@aws-sdk/xml-builder` parseXML, ~10 kB, no dependencies of its
// own; every app with an AWS SDK client already has it through @aws-sdk/core): issue 20 measured
// fast-xml-parser and its dependencies at 2 MB added to such an app. Loaded on the first STS
// call, never at import time (DESIGN "Cold-start budget").
let parserPromise: Promise<(xml: string) => unknown> | undefined

function loadParser(): Promise<(xml: string) => unknown> {
  parserPromise ??= import('@aws-sdk/xml-builder').then(({ parseXML }) => parseXML)
  return parserPromise
}

// A declaration of a document type or an entity is never part of an STS answer. The parser
// would skip what it cannot expand and return the fields around it, so such a body is refused
// before parsing (DESIGN "@podcreds/web-identity").
const DECLARATION = /<!(?:DOCTYPE|ENTITY)/i

export type XmlResult =
  | { ok: true; document: Record<string, unknown> }
  | { ok: false; reason: 'declaration' | 'malformed' }

/**
 * Starts loading the parser without waiting for it, so a caller that first signs a request (or
 * reads a token) loads both at once; a load failure surfaces on the first parse.
 */
export function preloadXmlParser(): void {
  loadParser().catch(() => {
    parserPromise = undefined
  })
}

// STS documents are 4 levels deep; a body nested deeper than this is not an STS answer, and the
// parser (recursive) is never asked to descend into it.
const MAX_DEPTH = 16

/**
 * Parses an STS body after refusing declarations. The parser decodes the five predefined
 * entities and character references itself and expands nothing else (with no DTD there is
 * nothing else to expand); a malformed body (unclosed or mismatched tags, no root element) is
 * `malformed`; what follows the root element is ignored, as the AWS SDK's parser does.
 */
export async function parseXml(body: string): Promise<XmlResult> {
  if (DECLARATION.test(body)) return { ok: false, reason: 'declaration' }
  if (tooDeep(body)) return { ok: false, reason: 'malformed' }
  const parse = await loadParser()
  try {
    const document = withoutPrefixes(parse(literalReferences(body)))
    if (typeof document !== 'object' || document === null) return { ok: false, reason: 'malformed' }
    return { ok: true, document: document as Record<string, unknown> }
  } catch {
    return { ok: false, reason: 'malformed' }
  }
}

/**
 * Makes every `&` that does not start a predefined entity or a valid character reference
 * literal text (`&amp;`), so an undeclared entity (`&xxe;`) or a lone surrogate (`&#xD800;`) is
 * kept as written rather than dropped (the parser maps unknown names to ''); astral character
 * references are decoded here, since the parser builds them from one UTF-16 unit. No reference
 * is ever expanded beyond one code point, so nothing can amplify.
 */
function literalReferences(body: string): string {
  if (!body.includes('&')) return body
  return body.replace(
    /&(?:#x([0-9a-fA-F]{1,6});|#(\d{1,7});|(amp|lt|gt|quot|apos);)?/g,
    (match, hex, dec, name) => {
      if (name !== undefined) return match
      if (hex === undefined && dec === undefined) return '&amp;'
      const code = hex !== undefined ? Number.parseInt(hex as string, 16) : Number(dec)
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return `&amp;${match.slice(1)}`
      return code > 0xffff ? String.fromCodePoint(code) : match
    },
  )
}

/**
 * Element names without a namespace prefix (`sts:Credentials` → `Credentials`), recursively:
 * STS answers use a default namespace, and a prefixed answer means the same.
 */
function withoutPrefixes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutPrefixes)
  if (typeof node !== 'object' || node === null) return node
  const out: Record<string, unknown> = Object.create(null)
  for (const [key, value] of Object.entries(node)) {
    const colon = key.indexOf(':')
    const name = colon === -1 || key.startsWith('xmlns') ? key : key.slice(colon + 1)
    out[name] = withoutPrefixes(value)
  }
  return out
}

/** Whether open tags nest deeper than {@link MAX_DEPTH} anywhere in `body` (a cheap scan). */
function tooDeep(body: string): boolean {
  let depth = 0
  for (const [tag] of body.matchAll(/<\/?[A-Za-z_][^>]*>/g)) {
    if (tag.startsWith('</')) depth -= 1
    else if (!tag.endsWith('/>')) depth += 1
    if (depth > MAX_DEPTH) return true
  }
  return false
}

/** Follows a path of element names; undefined when any step is missing or not an element. */
export function at(document: unknown, ...path: string[]): unknown {
  let node = document
  for (const name of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined
    if (!Object.hasOwn(node, name)) return undefined
    node = (node as Record<string, unknown>)[name]
  }
  return node
}

/** A text element's value, trimmed; undefined when missing, empty, repeated or not text. */
export function text(document: unknown, ...path: string[]): string | undefined {
  const value = at(document, ...path)
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}
