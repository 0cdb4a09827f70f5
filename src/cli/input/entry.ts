import type { RequestSpec } from '../../http/spec.js'

/** What an input reader yields: a request spec, or why its line is not one (the run goes on). */
export type InputEntry =
  | { line: number; spec: RequestSpec; error?: undefined }
  | { line: number; spec?: undefined; error: InputError }

/** A line that is not a request. Its message names the line, so the output says where to look. */
export class InputError extends Error {
  readonly code = 'INVALID_INPUT'
  override name = 'InputError'

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`)
  }
}
