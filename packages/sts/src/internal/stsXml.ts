import type { XMLParser } from 'fast-xml-parser'

// fast-xml-parser costs ~50 ms to load; it is imported on the first STS call, never at import
// time (DESIGN "Cold-start budget").
let parserPromise: Promise<XMLParser> | undefined

function loadParser(): Promise<XMLParser> {
  parserPromise ??= import('fast-xml-parser').then(
    ({ XMLParser }) =>
      new XMLParser({
        // Entities off: no expansion at all (and DOCTYPE/ENTITY bodies never get here).
        processEntities: false,
        htmlEntities: false,
        ignoreAttributes: true,
        ignoreDeclaration: true,
        ignorePiTags: true,
        removeNSPrefix: true,
        // Keep every value a string: an access key id or account id must not become a number.
        parseTagValue: false,
        trimValues: true,
        // STS documents are 4 levels deep; a deeper one is not an STS answer.
        maxNestedTags: 16,
      }),
  )
  return parserPromise
}

// A declaration of a document type or an entity is never part of an STS answer. The parser
// would skip what it cannot expand and return the fields around it, so such a body is refused
// before parsing (DESIGN "@podcreds/web-identity").
const DECLARATION = /<!(?:DOCTYPE|ENTITY)/i

export type XmlResult =
  | { ok: true; document: Record<string, unknown> }
  | { ok: false; reason: 'declaration' | 'malformed' }

/** Parses an STS body after refusing declarations; validation catches malformed XML. */
export async function parseXml(body: string): Promise<XmlResult> {
  if (DECLARATION.test(body)) return { ok: false, reason: 'declaration' }
  const parser = await loadParser()
  try {
    const document: unknown = parser.parse(body, true)
    if (typeof document !== 'object' || document === null) return { ok: false, reason: 'malformed' }
    return { ok: true, document: document as Record<string, unknown> }
  } catch {
    return { ok: false, reason: 'malformed' }
  }
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

/** A text element's value; undefined when missing, empty, repeated or not text. */
export function text(document: unknown, ...path: string[]): string | undefined {
  const value = at(document, ...path)
  return typeof value === 'string' && value !== '' ? decodeXmlText(value) : undefined
}

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/**
 * Decodes the five predefined XML entities and character references, which is all a document
 * without a DTD can contain: the parser runs with entity processing off, so no declared entity is
 * ever expanded, and this single pass cannot amplify (each reference yields at most 2 UTF-16 units).
 */
function decodeXmlText(value: string): string {
  if (!value.includes('&')) return value
  return value.replace(
    /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|(lt|gt|amp|quot|apos));/g,
    (match, hex, dec, name) => {
      if (name !== undefined) return PREDEFINED[name as string] ?? match
      const code = hex !== undefined ? Number.parseInt(hex as string, 16) : Number(dec)
      return code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : match
    },
  )
}
