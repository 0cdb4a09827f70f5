/**
 * Whether `text` is one JSON value (RFC 8259) exactly as JSON.parse accepts it, checked without
 * building it: a response body is written into the output as received once it is known to be JSON,
 * and building the value only to throw it away was the largest single cost of writing a record.
 */
export function isJsonText(text: string): boolean {
  const end = text.length
  // What encloses the value being read: OBJECT or ARRAY codes, innermost last.
  const open: number[] = []
  let i = skipSpace(text, 0)
  for (;;) {
    // A value starts at i.
    const c = text.charCodeAt(i)
    if (c === OBJECT) {
      i = skipSpace(text, i + 1)
      if (text.charCodeAt(i) === OBJECT_END) i++
      else {
        i = member(text, i)
        if (i < 0) return false
        open.push(OBJECT)
        continue
      }
    } else if (c === ARRAY) {
      i = skipSpace(text, i + 1)
      if (text.charCodeAt(i) === ARRAY_END) i++
      else {
        open.push(ARRAY)
        continue
      }
    } else {
      i = scalar(text, i)
      if (i < 0) return false
    }
    // A value ended at i: what follows it closes its containers, or starts the next value.
    for (;;) {
      i = skipSpace(text, i)
      const inside = open.at(-1)
      if (inside === undefined) return i === end
      const next = text.charCodeAt(i)
      if (next === COMMA) {
        i = skipSpace(text, i + 1)
        if (inside === OBJECT) {
          i = member(text, i)
          if (i < 0) return false
        }
        break
      }
      if (next !== (inside === OBJECT ? OBJECT_END : ARRAY_END)) return false
      open.pop()
      i++
    }
  }
}

const OBJECT = 0x7b // {
const OBJECT_END = 0x7d // }
const ARRAY = 0x5b // [
const ARRAY_END = 0x5d // ]
const COMMA = 0x2c
const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i
    i++
  }
}

/** An object member's `"name" :` from i; where its value starts, or -1. */
function member(text: string, i: number): number {
  if (text.charCodeAt(i) !== QUOTE) return -1
  i = string(text, i)
  if (i < 0) return -1
  i = skipSpace(text, i)
  if (text.charCodeAt(i) !== 0x3a) return -1
  return skipSpace(text, i + 1)
}

/** A string, number or literal from i; where it ends, or -1. */
function scalar(text: string, i: number): number {
  const c = text.charCodeAt(i)
  if (c === QUOTE) return string(text, i)
  if (c === MINUS || (c >= ZERO && c <= NINE)) return number(text, i)
  for (const literal of LITERALS) if (text.startsWith(literal, i)) return i + literal.length
  return -1
}

const LITERALS = ['true', 'false', 'null']

/** A string from its opening quote at i; where it ends, or -1. */
function string(text: string, i: number): number {
  const end = text.length
  for (i++; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) return i + 1
    if (c < 0x20) return -1
    if (c !== BACKSLASH) continue
    const escaped = text.charCodeAt(++i)
    if (escaped === 0x75) {
      // \uXXXX
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) return -1
      i += 4
    } else if (!SIMPLE_ESCAPES.has(escaped)) return -1
  }
  return -1
}

/** The characters after '\' in a JSON string, but 'u': " \ / b f n r t. */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74])

/** A number from i: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; where it ends, or -1. */
function number(text: string, i: number): number {
  if (text.charCodeAt(i) === MINUS) i++
  if (text.charCodeAt(i) === ZERO) i++
  else {
    const start = i
    i = digits(text, i)
    if (i === start) return -1
  }
  if (text.charCodeAt(i) === DOT) {
    const start = ++i
    i = digits(text, i)
    if (i === start) return -1
  }
  const e = text.charCodeAt(i)
  if (e === 0x65 || e === 0x45) {
    i++
    const sign = text.charCodeAt(i)
    if (sign === 0x2b || sign === MINUS) i++
    const start = i
    i = digits(text, i)
    if (i === start) return -1
  }
  return i
}

function digits(text: string, i: number): number {
  for (;;) {
    // Past the end charCodeAt is NaN: not a digit.
    const c = text.charCodeAt(i)
    if (!(c >= ZERO && c <= NINE)) return i
    i++
  }
}
