/**
 * JSON with sorted keys, so the same body hashes the same whatever the key order. Walks
 * with an explicit stack, never recursion: no input depth can overflow the call stack.
 */
export function stableJson(root: unknown): string {
  const out: string[] = [];
  // Each entry is either a value to write or a literal piece of output.
  const stack: Array<{ value: unknown } | { text: string }> = [{ value: root }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ('text' in item) {
      out.push(item.text);
      continue;
    }
    const value = item.value;
    if (Array.isArray(value)) {
      const parts: Array<{ value: unknown } | { text: string }> = [{ text: '[' }];
      value.forEach((v, i) => parts.push(...(i > 0 ? [{ text: ',' }] : []), { value: v }));
      parts.push({ text: ']' });
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
    } else if (value && typeof value === 'object') {
      const parts: Array<{ value: unknown } | { text: string }> = [{ text: '{' }];
      Object.keys(value)
        .sort()
        .forEach((k, i) =>
          parts.push(
            { text: `${i > 0 ? ',' : ''}${JSON.stringify(k)}:` },
            { value: (value as Record<string, unknown>)[k] },
          ),
        );
      parts.push({ text: '}' });
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
    } else {
      out.push(JSON.stringify(value ?? null));
    }
  }
  return out.join('');
}
