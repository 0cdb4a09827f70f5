import { describeValue, InvalidOptionError } from '../../errors.js'

/** A name option of a `next` helper: a non-empty string, else an error naming the helper and the option. */
export function nameOption(helper: string, option: string, value: unknown): string {
  if (typeof value === 'string' && value !== '') return value
  throw new InvalidOptionError(
    `${helper}: \`${option}\` must be a non-empty string, got ${describeValue(value)}`,
  )
}

/** A count option of a `next` helper: a whole number >= 1. */
export function countOption(helper: string, option: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value
  throw new InvalidOptionError(
    `${helper}: \`${option}\` must be a whole number >= 1, got ${describeValue(value)}`,
  )
}

/** A number read from the query of the URL that answered, or `fallback` when it is not there. */
export function queryNumber(url: string, name: string, fallback: number): number {
  const text = new URL(url).searchParams.get(name)
  const value = text === null ? fallback : Number(text)
  return Number.isFinite(value) ? value : fallback
}
