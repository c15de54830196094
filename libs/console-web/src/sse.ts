/** Server-Sent Events as `GET /v1/events` sends them: `id:` and `data:` lines, frames separated by a blank line, `:` comments as heartbeats. */

/** Split a Server-Sent Events text into complete frames and the unfinished rest. */
export function parseFrames(buffer: string): { frames: { id?: string; data: string }[]; rest: string } {
  const frames: { id?: string; data: string }[] = [];
  const parts = buffer.split(/\r?\n\r?\n/);
  const rest = parts.pop() ?? '';
  for (const part of parts) {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of part.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) frames.push({ ...(id !== undefined ? { id } : {}), data: data.join('\n') });
  }
  return { frames, rest };
}
