/** Escapes LIKE wildcards so a value matches literally; queries add `escape '\'` (both dialects). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
