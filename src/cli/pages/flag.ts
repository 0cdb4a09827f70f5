import { describeValue, InvalidOptionError } from '../../errors.js'
import { cursor } from '../../http/pages/cursor.js'
import { linkHeader } from '../../http/pages/link.js'
import type { NextPage } from '../../http/pages/next.js'
import { offset } from '../../http/pages/offset.js'
import { pageNumber } from '../../http/pages/page-number.js'
import { stripe } from '../../http/pages/stripe.js'
import { UsageError } from '../usage.js'

/** How a paginated run follows each input line's pages (--paginate, --items, --max-pages). */
export interface PageJob {
  /** The --paginate value as given: the job line keeps it, and --resume must be given the same. */
  shape: string
  /** The library's `next` helper the --paginate value names. */
  next: NextPage
  /** --items: dotted path of a page's items in the JSON body ('.': the body itself); one output line per item. Unset: one per page. */
  items: string | undefined
  /** --max-pages: pages a list may have; one more ends it with a MAX_PAGES error. @default no limit */
  maxPages: number
}

/** Each shape: its syntax (for errors and help) and how its ':'-separated arguments map onto the helper's options. */
const SHAPES: Record<string, { syntax: string; make: (args: (string | undefined)[]) => NextPage }> = {
  link: { syntax: 'link', make: () => linkHeader() },
  cursor: {
    syntax: 'cursor:<from>:<to>',
    make: ([from, to]) => cursor({ from: from!, to: to! }),
  },
  stripe: {
    syntax: 'stripe[:<items>[:<id>[:<param>]]]',
    make: ([items, id, param]) => stripe({ items, id, param }),
  },
  offset: {
    syntax: 'offset:<limit>[:<param>[:<total>]]',
    make: ([limit, param, total]) => offset({ limit: Number(limit), param, total }),
  },
  page: {
    syntax: 'page[:<param>[:<total>[:<first>]]]',
    make: ([param, total, first]) =>
      pageNumber({ param, total, first: first === undefined ? undefined : Number(first) }),
  },
}

/** Arguments each shape needs at least, and takes at most. */
const ARITY: Record<string, [number, number]> = {
  link: [0, 0],
  cursor: [2, 2],
  stripe: [0, 3],
  offset: [1, 3],
  page: [0, 3],
}

/**
 * 'cursor:response_metadata.next_cursor:cursor' -> the helper's `next`. An empty argument takes the
 * helper's default ('page::count' keeps `param = 'page'`). A bad value is a UsageError naming the flag,
 * the value and the shapes.
 */
export function paginateFlag(flag: string, value: string): NextPage {
  const [name = '', ...rest] = value.split(':')
  const shape = SHAPES[name]
  const args = rest.map((arg) => (arg === '' ? undefined : arg))
  const refuse = (why: string) =>
    new UsageError(
      `${flag} ${describeValue(value)}: ${why}; one of ${Object.values(SHAPES)
        .map((s) => s.syntax)
        .join(', ')}`,
    )
  if (!shape) throw refuse(`${describeValue(name)} is not a pagination shape`)
  const [least, most] = ARITY[name]!
  const given = args.filter((arg) => arg !== undefined).length
  if (rest.length > most || given < least || args.slice(0, least).includes(undefined))
    throw refuse(`${name} takes ${shape.syntax}`)
  try {
    return shape.make(args)
  } catch (error) {
    if (error instanceof InvalidOptionError) throw refuse(error.message)
    throw error
  }
}

/** A dotted path into a JSON body: names separated by dots, none empty; or '.', the body itself. */
export function dottedPath(flag: string, value: string): string {
  if (value === '.' || (value !== '' && value.split('.').every((key) => key !== ''))) return value
  throw new UsageError(
    `${flag} must be a dotted path into the JSON body such as data or result.items (or . for the body itself), got ${describeValue(value)}`,
  )
}
