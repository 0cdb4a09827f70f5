import { describeValue } from '../errors.js'
import type { RequestObject, RequestSpec } from '../http/spec.js'
import { InputError } from './input/entry.js'
import { UsageError } from './usage.js'

/** The unit a --cost-field path counts in when it names none: LLM APIs' budgets are in tokens. */
const DEFAULT_UNIT = 'tokens'
/** As a rate's unit is named ('30000 tokens/min'). */
const UNIT_NAME = /^[a-z][a-z0-9_-]{0,31}$/i

/** `--cost-field [unit=]path`: each line's cost in `unit` is the number at `path` in its request. */
export interface CostField {
  readonly unit: string
  readonly path: readonly string[]
  /** As given, for messages. */
  readonly text: string
}

/**
 * 'json.max_tokens' (tokens) or 'output-tokens=json.max_tokens': a unit, then a dotted path into the
 * request object a line becomes. One field per unit: two would leave which one counts to chance.
 */
export function costFields(flag: string, values: readonly string[]): CostField[] {
  const fields = values.map((text) => costField(flag, text))
  const twice = fields.find((field, i) => fields.findIndex((other) => other.unit === field.unit) !== i)
  if (twice) {
    throw new UsageError(
      `${flag} gives the cost in ${twice.unit} twice: give one path per unit (${values.join(', ')})`,
    )
  }
  return fields
}

function costField(flag: string, text: string): CostField {
  const equals = text.indexOf('=')
  const unit = equals === -1 ? DEFAULT_UNIT : text.slice(0, equals).trim()
  const path = text
    .slice(equals + 1)
    .trim()
    .split('.')
  if (!UNIT_NAME.test(unit) || path.some((segment) => segment === '')) {
    throw new UsageError(
      `${flag} must be a dotted path into each line's request, such as json.max_tokens, optionally after a unit (output-tokens=json.max_tokens), got ${describeValue(text)}`,
    )
  }
  return { unit, path, text }
}

/**
 * The spec with its cost read from `fields`, or an InputError naming the line and the field. A
 * line with its own `cost` keeps it: what a line says of itself beats a rule for every line. A
 * number in a string counts (CSV cells are strings). Specs that are not objects are left to the
 * client, which refuses them.
 */
export function withCostFields(
  spec: RequestSpec,
  fields: readonly CostField[],
  line: number,
): RequestSpec | InputError {
  if (fields.length === 0 || !isRequestObject(spec) || spec.cost !== undefined) return spec
  const cost: Record<string, number> = {}
  for (const field of fields) {
    const value = valueAt(spec, field.path)
    const amount = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
    const whole = field.unit === 'requests'
    const valid =
      typeof amount === 'number' &&
      Number.isFinite(amount) &&
      amount >= 0 &&
      (!whole || Number.isInteger(amount))
    if (!valid) {
      const wanted = whole ? 'a whole number >= 0' : 'a number >= 0'
      const got = value === undefined ? 'the line has no such field' : `got ${describeValue(value)}`
      return new InputError(
        line,
        `--cost-field ${field.text}: the cost in ${field.unit} must be ${wanted}, ${got}`,
      )
    }
    cost[field.unit] = amount
  }
  return { ...spec, cost }
}

function isRequestObject(spec: RequestSpec): spec is RequestObject {
  return typeof spec === 'object' && spec !== null && !Array.isArray(spec) && !(spec instanceof URL)
}

/** The value at a dotted path (own properties only: `constructor` is no field of a line), or undefined. */
function valueAt(value: unknown, path: readonly string[]): unknown {
  let at = value
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined
    at = (at as Record<string, unknown>)[key]
  }
  return at
}
