// Nested results (arrays, records of arrays, numbers) compared within a tolerance, naming the
// path of the first difference.

import { expect } from 'vitest';

/** Numbers within `tol`, in nested arrays and objects of the same shape. */
export function expectClose(a: unknown, b: unknown, tol: number, at = ''): void {
  if (typeof a === 'number') {
    expect(typeof b, at).toBe('number');
    expect(Math.abs(a - (b as number)), `${at}: ${a} vs ${b}`).toBeLessThanOrEqual(tol);
  } else if (Array.isArray(a)) {
    expect((b as unknown[]).length, at).toBe(a.length);
    a.forEach((x, i) => expectClose(x, (b as unknown[])[i], tol, `${at}[${i}]`));
  } else if (a && typeof a === 'object') {
    expect(Object.keys(b as object).sort(), at).toEqual(Object.keys(a).sort());
    for (const [k, v] of Object.entries(a)) expectClose(v, (b as Record<string, unknown>)[k], tol, `${at}.${k}`);
  } else expect(b, at).toEqual(a);
}
