/** The payload codec: what a version seals is the UTF-8 JSON of its type's payload fields. */
import { secretTypeHandler } from './types/index.js';

/** What one version seals: its type's payload fields (see each handler's `decode`). Never stored or logged in clear. */
export type VersionPayload = Readonly<Record<string, unknown>>;

/** The plaintext of a version: the JSON of its payload fields. */
export function plaintextOf(payload: VersionPayload): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** A version's payload from an opened envelope (UTF-8 JSON); only the type's fields are kept. The bytes are zeroed. */
export function payloadFromPlaintext(type: string, plaintext: Uint8Array): VersionPayload {
  const bytes = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  const json = bytes.toString('utf8');
  bytes.fill(0);
  return secretTypeHandler(type).decode(JSON.parse(json) as Record<string, unknown>);
}

/** A text field of an opened payload, or undefined. */
export function textField(value: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const field = value[name];
  return typeof field === 'string' ? field : undefined;
}
