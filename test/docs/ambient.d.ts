// The free names of the doc examples, which show fragments of a program: each is declared with the
// type a real program would give it, so the examples are checked against real types. Global on
// purpose, so it is kept out of the repo's own program (tsconfig.json excludes it);
// examples.test.ts copies it into the consumer project beside the examples.

interface User {
  id: number
  name: string
}

/** A geocoding result (not the DOM's Location: the consumer project has no DOM lib). */
interface Location {
  lat: number
  lng: number
}

declare const ids: number[]
declare const token: string
declare const jobId: string
declare const api: import('volley').Client

declare function fetchUser(id: number, signal?: AbortSignal): Promise<User>
declare function readIds(): AsyncIterable<number>
declare function save(value: unknown): void
declare function callBatchApi(addresses: string[], signal: AbortSignal): Promise<Location[]>
declare const prompts: string[]
declare const text: string
declare function summarise(text: string): Promise<string>
/** An LLM call that says what it used, as OpenAI's answers do. */
declare function complete(prompt: string): Promise<{ text: string; usage: { total_tokens: number } }>
declare const rows: AsyncIterable<unknown>
declare function upload(row: unknown): Promise<void>
declare function report(error: unknown): void
declare function refreshToken(): Promise<void>
declare function fetchUsers(ids: readonly number[]): Promise<User[]>
