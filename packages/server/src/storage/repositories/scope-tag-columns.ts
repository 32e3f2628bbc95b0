/** Scope tags are stored as a JSON array of restricted tags (see domain/access/scope-tags.ts); NULL: none. */
export function scopeTagsFrom(column: string | null): string[] {
  return column === null ? [] : (JSON.parse(column) as string[]);
}

export function scopeTagsJson(tags: readonly string[]): string | null {
  return tags.length === 0 ? null : JSON.stringify(tags);
}
